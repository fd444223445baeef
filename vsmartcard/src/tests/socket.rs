use socket2::SockRef;
use std::net::{TcpListener, TcpStream};

use crate::socket::{configure, rearm_quickack};

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (client, listener.accept().unwrap().0)
}

#[test]
fn configure_sets_nodelay() {
    let (client, _server) = pair();
    assert!(!SockRef::from(&client).tcp_nodelay().unwrap());
    configure(&client).unwrap();
    assert!(SockRef::from(&client).tcp_nodelay().unwrap());
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn quickack_is_rearmed_after_the_kernel_dropped_it() {
    let (client, _server) = pair();
    configure(&client).unwrap();
    assert!(SockRef::from(&client).tcp_quickack().unwrap());
    // Clearing the option is what the kernel does on its own once the connection looks
    // interactive (delayed-ACK "pingpong" mode).
    SockRef::from(&client).set_tcp_quickack(false).unwrap();
    assert!(!SockRef::from(&client).tcp_quickack().unwrap());
    rearm_quickack(&client).unwrap();
    assert!(SockRef::from(&client).tcp_quickack().unwrap());
}
