//! A faulty JSON-RPC bundler of the tests' own: in process, on 127.0.0.1, stopped on drop.
//!
//! It keeps the ops it accepted, answers `eth_getUserOperationByHash` for them, never has a
//! receipt (unless told to), and injects the fault a test asks for on a given call of a method.

#![allow(dead_code, unreachable_pub)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use mandate_bundler::{
    BundlerClient, ClientConfig, RetryPolicy, RpcUserOperation,
    mandate_abi::{
        UserOperation,
        alloy_primitives::{Address, B256, U256},
    },
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// Chain id the server reports (anvil's).
pub const CHAIN_ID: u64 = 31337;

/// What to do to one call.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this HTTP status before doing anything.
    Status(u16),
    /// Do the work (e.g. accept the op), then answer with this HTTP status.
    StatusAfterWork(u16),
    /// Answer 429 with `Retry-After: secs`.
    RateLimited(u64),
    /// Do the work, then answer only after this long.
    Slow(Duration),
    /// Answer with a body that is not JSON.
    Malformed,
    /// Answer with this JSON-RPC error.
    RpcError(i64, String),
    /// Do the work (e.g. accept the op), then answer with this JSON-RPC error.
    RpcErrorAfterWork(i64, String),
    /// Answer as usual, then include ("mine") every op held: each gets a receipt.
    MineHeld,
}

#[derive(Default)]
struct State {
    faults: HashMap<(String, usize), Fault>,
    calls: HashMap<String, usize>,
    /// Held ops by hash: their sender and nonce.
    held: HashMap<B256, (Address, U256)>,
    /// Sends of an op the server already held.
    duplicate_sends: usize,
    receipts: HashMap<B256, Value>,
    /// Answers like Alto: `eth_getUserOperationByHash` finds only included ops, a held op sent
    /// again is "Already known" and an included one fails its nonce check (AA25).
    alto: bool,
}

/// The server; dropping it stops it.
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        Self { addr, state, task }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Injects `fault` into the `nth` (1-based) call of `method`.
    pub fn fault(&self, method: &str, nth: usize, fault: Fault) {
        self.state.lock().expect("state").faults.insert((method.to_string(), nth), fault);
    }

    /// How often `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        self.state.lock().expect("state").calls.get(method).copied().unwrap_or(0)
    }

    /// Sends of an op the server already held.
    pub fn duplicate_sends(&self) -> usize {
        self.state.lock().expect("state").duplicate_sends
    }

    /// Ops the server holds.
    pub fn held(&self) -> usize {
        self.state.lock().expect("state").held.len()
    }

    /// Makes the server answer like Alto (see [`State::alto`]).
    pub fn behave_like_alto(&self) {
        self.state.lock().expect("state").alto = true;
    }

    /// Makes the server answer `eth_getUserOperationReceipt` for `hash` with `receipt`.
    pub fn set_receipt(&self, hash: B256, receipt: Value) {
        self.state.lock().expect("state").receipts.insert(hash, receipt);
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_len, body_len) = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, len);
        }
    };
    while buf.len() < head_len + body_len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let request: Value =
        serde_json::from_slice(&buf[head_len..head_len + body_len]).unwrap_or(Value::Null);
    let (status, extra, body, delay) = answer(&request, &state);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Status, extra header lines, body and delay for one request.
fn answer(request: &Value, state: &Mutex<State>) -> (u16, String, String, Option<Duration>) {
    let method = request["method"].as_str().unwrap_or_default().to_string();
    let id = request["id"].clone();
    let mut state = state.lock().expect("state");
    let nth = {
        let n = state.calls.entry(method.clone()).or_default();
        *n += 1;
        *n
    };
    let fault = state.faults.get(&(method.clone(), nth)).cloned();
    match &fault {
        Some(Fault::Status(status)) => return (*status, String::new(), "{}".into(), None),
        Some(Fault::RateLimited(secs)) => {
            return (429, format!("Retry-After: {secs}\r\n"), "{}".into(), None);
        }
        Some(Fault::Malformed) => {
            return (200, String::new(), r#"{"jsonrpc":"2.0","id":1,"result":["#.into(), None);
        }
        Some(Fault::RpcError(code, message)) => {
            let body =
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
            return (200, String::new(), body.to_string(), None);
        }
        _ => {}
    }
    let params = &request["params"];
    let result = match method.as_str() {
        "eth_chainId" => json!(format!("{CHAIN_ID:#x}")),
        "eth_supportedEntryPoints" => json!([mandate_bundler::mandate_abi::ENTRY_POINT_V07]),
        "eth_sendUserOperation" => {
            let op: RpcUserOperation =
                serde_json::from_value(params[0].clone()).expect("a v0.7 user operation");
            let entry_point: Address =
                serde_json::from_value(params[1].clone()).expect("an entry point");
            let op = UserOperation::try_from(op).expect("fits");
            let hash = op.hash(entry_point, CHAIN_ID);
            if state.held.insert(hash, (op.sender, op.nonce)).is_some() {
                state.duplicate_sends += 1;
                if state.alto {
                    let (code, message) = if state.receipts.contains_key(&hash) {
                        (
                            -32500,
                            "UserOperation failed validation with reason: AA25 invalid account nonce",
                        )
                    } else {
                        (-32602, "Already known")
                    };
                    let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
                    return (200, String::new(), body.to_string(), None);
                }
            }
            json!(hash)
        }
        "eth_getUserOperationByHash" => {
            let hash: B256 = serde_json::from_value(params[0].clone()).expect("a hash");
            let found = if state.alto {
                state.receipts.contains_key(&hash)
            } else {
                state.held.contains_key(&hash)
            };
            if found {
                json!({
                    "userOperation": RpcUserOperation::default(),
                    "entryPoint": mandate_bundler::mandate_abi::ENTRY_POINT_V07,
                    "blockNumber": null, "blockHash": null, "transactionHash": null
                })
            } else {
                Value::Null
            }
        }
        "eth_getUserOperationReceipt" => {
            let hash: B256 = serde_json::from_value(params[0].clone()).expect("a hash");
            state.receipts.get(&hash).cloned().unwrap_or(Value::Null)
        }
        "pimlico_getUserOperationGasPrice" => {
            let tier = json!({"maxFeePerGas": "0x3b9aca00", "maxPriorityFeePerGas": "0x3b9aca00"});
            json!({"slow": tier, "standard": tier, "fast": tier})
        }
        "pm_getPaymasterStubData" => json!({
            "sponsor": {"name": "Mandate tests"},
            "paymaster": "0x00000000000000000000000000000000000000aa",
            "paymasterData": "0x1234",
            "paymasterVerificationGasLimit": "0x186a0",
            "paymasterPostOpGasLimit": "0x0",
        }),
        "pm_getPaymasterData" => json!({
            "paymaster": "0x00000000000000000000000000000000000000aa",
            "paymasterData": "0xabcd",
        }),
        _ => {
            let body = json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}});
            return (200, String::new(), body.to_string(), None);
        }
    };
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string();
    match fault {
        Some(Fault::StatusAfterWork(status)) => (status, String::new(), "{}".into(), None),
        Some(Fault::RpcErrorAfterWork(code, message)) => {
            let body =
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
            (200, String::new(), body.to_string(), None)
        }
        Some(Fault::MineHeld) => {
            let held: Vec<_> = state.held.iter().map(|(h, s)| (*h, *s)).collect();
            for (hash, (sender, nonce)) in held {
                state.receipts.entry(hash).or_insert_with(|| receipt(hash, sender, nonce));
            }
            (200, String::new(), body, None)
        }
        Some(Fault::Slow(delay)) => (200, String::new(), body, Some(delay)),
        _ => (200, String::new(), body, None),
    }
}

/// A successful receipt of the op `hash` by `sender` with `nonce`, in block 2.
pub fn receipt(hash: B256, sender: Address, nonce: U256) -> Value {
    json!({
        "userOpHash": hash, "entryPoint": mandate_bundler::mandate_abi::ENTRY_POINT_V07,
        "sender": sender, "nonce": format!("{nonce:#x}"), "paymaster": null,
        "actualGasCost": "0x10", "actualGasUsed": "0x8", "success": true, "reason": "",
        "logs": [],
        "receipt": {"transactionHash": format!("0x{}", "ab".repeat(32)), "blockNumber": "0x2",
                    "gasUsed": "0x1234", "status": "0x1", "logs": []}
    })
}

/// A client of `server` with a short, fixed back-off: `attempts` tries, each `timeout` long.
pub(crate) fn client(server: &FaultServer, timeout: Duration, attempts: u32) -> BundlerClient {
    BundlerClient::new(&server.url()).expect("url").with_config(ClientConfig {
        request_timeout: timeout,
        retry: RetryPolicy {
            max_attempts: attempts,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        },
    })
}

/// A signed-looking op of `sender` `0xseed…seed` with nonce `nonce` and fixed limits and fees.
pub(crate) fn op(seed: u8, nonce: U256) -> UserOperation {
    UserOperation {
        sender: Address::repeat_byte(seed),
        nonce,
        call_data: vec![seed; 4].into(),
        call_gas_limit: 100_000,
        verification_gas_limit: 200_000,
        pre_verification_gas: U256::from(50_000),
        max_fee_per_gas: 2,
        max_priority_fee_per_gas: 1,
        signature: vec![0x11; 65].into(),
        ..Default::default()
    }
}
