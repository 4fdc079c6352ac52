//! The per-method registration shortcuts (`get`, `post`, ..., `get_future`)
//! that [`Router`](super::Router) and [`Group`](super::Group) share; each
//! expands to a call of the type's own `handle`.

/// Expands to `get`, `post`, `put`, `delete`, `patch`, `head`, `options`,
/// `get_future` and `post_future` methods calling `self.handle`.
macro_rules! method_shortcuts {
    () => {
        method_shortcuts!(@plain get "GET", post "POST", put "PUT", delete "DELETE",
            patch "PATCH", head "HEAD", options "OPTIONS");
        method_shortcuts!(@future get_future "GET", post_future "POST");
    };
    (@plain $($name:ident $method:literal),*) => {$(
        #[doc = concat!("Registers a `", $method, "` route with a plain handler.")]
        pub fn $name<F>(&mut self, path: &str, f: F) -> $crate::router::RouteRef<'_>
        where
            F: Fn(&mut $crate::handler::Ctx<'_>) -> Result<(), $crate::handler::HttpError>
                + Send
                + Sync
                + 'static,
        {
            self.handle($method, path, $crate::handler::Handler::plain(f))
        }
    )*};
    (@future $($name:ident $method:literal),*) => {$(
        #[doc = concat!("Registers a `", $method, "` route with a future handler (always async).")]
        pub fn $name<F, Fut>(&mut self, path: &str, f: F) -> $crate::router::RouteRef<'_>
        where
            F: Fn($crate::handler::Request) -> Fut + Send + Sync + 'static,
            Fut: std::future::Future<
                    Output = Result<$crate::handler::Response, $crate::handler::HttpError>,
                > + Send
                + 'static,
        {
            self.handle($method, path, $crate::handler::Handler::future(f))
        }
    )*};
}
