//! The adaptive engine: an epoll engine and an io_uring engine on one
//! shared port, new connections going to one of them as the controller
//! ([`policy`]) decides on every supervisor tick.

pub mod policy;
