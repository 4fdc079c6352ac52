//! The engines' only contact with the OS below std: listener sockets with
//! SO_REUSEPORT, the epoll instance, CPU pinning and the open-file limit.
//! Every libc call goes through `cvt`, which turns -1 into `io::Error`.
//!
//! Per platform: `epoll` and CPU pinning exist on Linux only (the epoll
//! engine is compiled there only); the listener, the open-file limit and
//! the descriptor-exhaustion test exist everywhere (the std engine uses
//! them), with SO_REUSEPORT on Unix and SO_REUSEADDR alone elsewhere.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
pub mod epoll;

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Turns a libc return value of -1 into the thread's last OS error.
#[cfg(unix)]
fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Backlog of every listener.
const BACKLOG: i32 = 4096;

/// A non-blocking listener on `addr` sharing its port with the other workers'
/// listeners (SO_REUSEPORT), with TCP_NODELAY for accepted sockets.
pub fn reuseport_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    // Windows has no SO_REUSEPORT; its SO_REUSEADDR lets the workers bind
    // the same port.
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Adopts the inherited descriptor `fd` as a listener: it must be an open
/// stream socket in the listening state (anything else is refused, and the
/// descriptor is left alone). The listener owns it from then on and makes it
/// non-blocking.
#[cfg(unix)]
pub fn inherited_listener(fd: i32) -> io::Result<TcpListener> {
    use std::os::fd::{BorrowedFd, FromRawFd};

    let invalid = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor {fd}: {why}"),
        )
    };
    if fd < 0 {
        return Err(invalid("not a descriptor"));
    }
    // SAFETY: F_GETFD only reads the descriptor's flags; an unopened number
    // gives EBADF, which is returned.
    cvt(unsafe { libc::fcntl(fd, libc::F_GETFD) }).map_err(|e| invalid(&e.to_string()))?;
    // SAFETY: `fd` is open (checked above) and stays open while borrowed
    // here: nothing closes it before this function returns.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&borrowed);
    if sock.r#type()? != Type::STREAM {
        return Err(invalid("not a stream socket"));
    }
    // SO_ACCEPTCONN is not readable everywhere; where it is not, a socket
    // that does not listen fails at its first accept instead.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    if !sock.is_listener()? {
        return Err(invalid("not a listening socket"));
    }
    // SAFETY: `fd` is an open listening stream socket (checked above) that
    // the caller hands over: from here the listener owns and closes it.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Inherited listeners need Unix descriptors.
#[cfg(not(unix))]
pub fn inherited_listener(_fd: i32) -> io::Result<TcpListener> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "inherited listening sockets are supported on Unix only",
    ))
}

/// Pins the calling thread to one CPU.
#[cfg(target_os = "linux")]
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit inside `set`; `cpu` is reduced modulo the
    // set's capacity so it cannot index past it.
    unsafe { libc::CPU_SET(cpu % (8 * std::mem::size_of::<libc::cpu_set_t>()), &mut set) };
    // SAFETY: `set` is a valid cpu_set_t and its size is passed with it; pid 0
    // is the calling thread.
    cvt(unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) })?;
    Ok(())
}

/// Raises the soft open-file limit to the hard limit; returns the new soft
/// limit (`u64::MAX` where the platform has no such limit).
#[cfg(not(unix))]
pub fn raise_nofile_limit() -> io::Result<u64> {
    Ok(u64::MAX)
}

/// Raises the soft open-file limit to the hard limit; returns the new soft limit.
#[cfg(unix)]
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit the call fills.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) })?;
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a valid rlimit read above.
        cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) })?;
    }
    Ok(lim.rlim_cur)
}

/// Whether an accept error means the process or system ran out of descriptors.
#[cfg(unix)]
pub fn is_fd_exhaustion(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

/// Whether an accept error means the process ran out of sockets
/// (`WSAEMFILE`, `WSAENOBUFS`).
#[cfg(windows)]
pub fn is_fd_exhaustion(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(10024) | Some(10055))
}

/// Whether an accept error means the process ran out of descriptors (never
/// recognised on this platform).
#[cfg(not(any(unix, windows)))]
pub fn is_fd_exhaustion(_err: &io::Error) -> bool {
    false
}
