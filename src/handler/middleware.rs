//! Middleware: hooks that run before and after a route's handler, the same way
//! for plain and future handlers.

use super::{Ctx, HttpError};

/// What a `before` hook decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Run the rest of the chain.
    Continue,
    /// Stop here: the response written so far is the answer.
    Stop,
}

/// A middleware: `before` runs in registration order (global, group, route)
/// ahead of the handler; `after` runs in reverse order once the response is
/// final (errors already turned into responses), for every middleware whose
/// `before` ran.
pub trait Middleware: Send + Sync + 'static {
    /// Runs before the handler. `Err` answers with the error and skips the rest.
    fn before(&self, _ctx: &mut Ctx<'_>) -> Result<Flow, HttpError> {
        Ok(Flow::Continue)
    }

    /// Runs after the handler with the final response in `ctx`.
    fn after(&self, _ctx: &mut Ctx<'_>) {}
}

/// A middleware made of a `before` closure.
pub struct Before<F>(pub F);

impl<F> Middleware for Before<F>
where
    F: Fn(&mut Ctx<'_>) -> Result<Flow, HttpError> + Send + Sync + 'static,
{
    fn before(&self, ctx: &mut Ctx<'_>) -> Result<Flow, HttpError> {
        (self.0)(ctx)
    }
}

/// A middleware made of an `after` closure.
pub struct After<F>(pub F);

impl<F> Middleware for After<F>
where
    F: Fn(&mut Ctx<'_>) + Send + Sync + 'static,
{
    fn after(&self, ctx: &mut Ctx<'_>) {
        (self.0)(ctx)
    }
}
