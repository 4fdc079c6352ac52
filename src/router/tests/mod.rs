//! Behaviour tests of the router, through its public API.

mod dispatch;
mod fallback;
mod groups;
mod lookup;
mod paths;
mod shared;
mod support;
mod url;
