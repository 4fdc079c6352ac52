//! The per-method registration shortcuts (`get`, `post`, ..., `get_future`)
//! that [`Router`](super::Router) and [`Group`](super::Group) share; each
//! expands to a call of the type's own `handle`.

/// Expands to `get`, `post`, `put`, `delete`, `patch`, `head`, `options`,
/// `get_future` and `post_future` methods calling `self.handle`; `$setup`
/// is the example's first line(s), binding `r` to the receiver.
macro_rules! method_shortcuts {
    ($setup:literal) => {
        method_shortcuts!(@plain $setup; get "GET", post "POST", put "PUT", delete "DELETE",
            patch "PATCH", head "HEAD", options "OPTIONS");
        method_shortcuts!(@future $setup; get_future "GET", post_future "POST");
    };
    (@plain $setup:literal; $($name:ident $method:literal),*) => {$(
        #[doc = concat!("Registers a `", $method, "` route with a plain handler.")]
        ///
        /// # Examples
        ///
        /// ```
        #[doc = $setup]
        #[doc = concat!("r.", stringify!($name), "(\"/items/:id\", |ctx| {")]
        ///     let body = format!("item {}", ctx.param("id").unwrap_or_default());
        ///     ctx.text(&body);
        ///     Ok(())
        /// });
        /// ```
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
    (@future $setup:literal; $($name:ident $method:literal),*) => {$(
        #[doc = concat!("Registers a `", $method, "` route with a future handler (always async).")]
        ///
        /// # Examples
        ///
        /// ```
        /// use switchyard::{Request, Response};
        ///
        #[doc = $setup]
        #[doc = concat!("r.", stringify!($name), "(\"/items/:id\", |req: Request| async move {")]
        ///     let body = format!("item {}", req.param("id").unwrap_or_default());
        ///     Ok(Response::with_text(&body))
        /// });
        /// ```
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
