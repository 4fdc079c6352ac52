//! Runs a route's middleware chain around its handler: errors become error
//! responses, a panic becomes a 500 for this request only.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{Ctx, Flow, HttpError, PlainFn, SharedMiddleware};

/// What the `before` half of a chain decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Before {
    /// How many middleware `before` hooks ran (their `after` hooks will run).
    pub ran: usize,
    /// Whether the handler should run.
    pub run_handler: bool,
}

/// Runs the `before` hooks in order, turning an error or a panic into the
/// response.
pub fn run_before(ctx: &mut Ctx<'_>, chain: &[SharedMiddleware]) -> Before {
    for (i, mw) in chain.iter().enumerate() {
        match catch_unwind(AssertUnwindSafe(|| mw.before(ctx))) {
            Ok(Ok(Flow::Continue)) => {}
            Ok(Ok(Flow::Stop)) => {
                return Before {
                    ran: i + 1,
                    run_handler: false,
                }
            }
            Ok(Err(err)) => {
                ctx.response().set_error(&err);
                return Before {
                    ran: i + 1,
                    run_handler: false,
                };
            }
            Err(_) => {
                tracing::error!(path = ctx.path(), "middleware panicked; answering 500");
                ctx.response().set_error(&HttpError::internal());
                return Before {
                    ran: i + 1,
                    run_handler: false,
                };
            }
        }
    }
    Before {
        ran: chain.len(),
        run_handler: true,
    }
}

/// Runs the `after` hooks of the first `ran` middleware, in reverse order. A
/// panicking hook is logged and skipped.
pub fn run_after(ctx: &mut Ctx<'_>, chain: &[SharedMiddleware], ran: usize) {
    for mw in chain[..ran].iter().rev() {
        if catch_unwind(AssertUnwindSafe(|| mw.after(ctx))).is_err() {
            tracing::error!(path = ctx.path(), "middleware after-hook panicked");
        }
    }
}

/// Runs a plain handler with its chain. A handler that writes nothing leaves
/// the empty 200 the response starts as.
pub fn run_plain(ctx: &mut Ctx<'_>, chain: &[SharedMiddleware], handler: &PlainFn) {
    let before = run_before(ctx, chain);
    if before.run_handler {
        match catch_unwind(AssertUnwindSafe(|| handler(ctx))) {
            Ok(Ok(())) => {}
            Ok(Err(err)) => ctx.response().set_error(&err),
            Err(_) => {
                tracing::error!(path = ctx.path(), "handler panicked; answering 500");
                ctx.response().set_error(&HttpError::internal());
            }
        }
    }
    run_after(ctx, chain, before.ran);
}
