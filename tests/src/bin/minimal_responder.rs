//! The minimal responder as a process of its own, as the card is: `minimal_responder PORT`
//! connects to vpcd on `127.0.0.1:PORT` and answers until vpcd or its parent closes the
//! connection (`e2e::minimal`).

fn main() {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(port)) => port,
        _ => {
            eprintln!("usage: minimal_responder PORT");
            std::process::exit(2);
        }
    };
    if let Err(e) = e2e::minimal::serve(port) {
        eprintln!("minimal responder: {e}");
        std::process::exit(1);
    }
}
