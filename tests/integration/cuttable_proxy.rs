//! A TCP proxy of our own for outage tests: it forwards loopback connections to an upstream port and
//! can cut every connection at once, refusing new ones until it is restored, or hold back every Kafka
//! Produce request (the output unreachable while fetches still flow).
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy; its port is known before it forwards anything, so a broker can advertise it.
pub struct CuttableProxy {
    /// The loopback port clients connect to.
    pub port: u16,
    listener: Option<TcpListener>,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
    /// Connections refused while cut.
    pub refused: Arc<AtomicUsize>,
    hold_produce: Arc<AtomicBool>,
}

impl CuttableProxy {
    /// Binds a free loopback port.
    pub fn bind() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("address").port();
        Self {
            port,
            listener: Some(listener),
            cut: Arc::default(),
            live: Arc::default(),
            refused: Arc::default(),
            hold_produce: Arc::default(),
        }
    }

    /// Starts forwarding to loopback `upstream`, on threads that live as long as the test process.
    pub fn forward_to(&mut self, upstream: u16) {
        let listener = self.listener.take().expect("forward_to is called once");
        let (cut, live, refused, hold) = (self.cut.clone(), self.live.clone(), self.refused.clone(), self.hold_produce.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if cut.load(Ordering::SeqCst) {
                    refused.fetch_add(1, Ordering::SeqCst);
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let mut live = live.lock().unwrap();
                for stream in [&client, &server] {
                    live.push(stream.try_clone().expect("clone a socket"));
                }
                forward_requests(client.try_clone().expect("clone"), server.try_clone().expect("clone"), hold.clone());
                pipe(server, client);
            }
        });
    }

    /// Closes every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for stream in self.live.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Holds back every Produce request (on its connection, in order) until [`CuttableProxy::release_produce`].
    pub fn hold_produce(&self) {
        self.hold_produce.store(true, Ordering::SeqCst);
    }

    /// Forwards Produce requests again, the held ones first.
    pub fn release_produce(&self) {
        self.hold_produce.store(false, Ordering::SeqCst);
    }
}

/// Kafka's Produce request key (the first field of every request header).
const PRODUCE_API_KEY: i16 = 0;

/// Forwards client requests frame by frame (a 4-byte big-endian size, then the request, whose header
/// starts with its API key), holding a Produce request while `hold` is set; closes both sides at the end.
fn forward_requests(mut from: TcpStream, mut to: TcpStream, hold: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut size = [0u8; 4];
        while from.read_exact(&mut size).is_ok() {
            let mut request = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
            if from.read_exact(&mut request).is_err() {
                break;
            }
            let api_key = request.get(..2).map(|k| i16::from_be_bytes([k[0], k[1]]));
            while api_key == Some(PRODUCE_API_KEY) && hold.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if to.write_all(&size).and_then(|_| to.write_all(&request)).is_err() {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// Copies `from` into `to` until either side closes, then closes both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buffer) {
            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    });
}
