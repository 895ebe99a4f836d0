//! The per-step sandbox: a fresh store whose WASI context has no ambient authority
//! (no files, environment, arguments or sockets), captured stdout/stderr with a cap,
//! a total memory cap and a deadline.

use crate::caps::{CapsCtx, CapsView};
use bytes::Bytes;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use crate::limits::Limits;

/// Caps the total linear memory of a store, across every memory of every core
/// instance of the component (`StoreLimits` caps each memory on its own).
#[derive(Debug)]
pub struct MemoryCap {
    limit: usize,
    used: usize,
    /// Set when a growth was refused: the trap that follows is then reported as
    /// "memory limit" rather than a bare trap.
    pub hit: bool,
}

impl MemoryCap {
    pub fn new(limit: usize) -> Self {
        MemoryCap {
            limit,
            used: 0,
            hit: false,
        }
    }
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.used.saturating_add(grow) > self.limit {
            self.hit = true;
            return Ok(false);
        }
        self.used += grow;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        // Tables hold references, not data; a million entries is far beyond any step.
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        64
    }
    fn tables(&self) -> usize {
        64
    }
    fn memories(&self) -> usize {
        64
    }
}

/// A capped in-memory sink for a guest's stdout or stderr. Writes past the cap
/// succeed but are dropped and counted, so a chatty guest is not killed for it.
#[derive(Clone, Debug)]
pub struct CappedPipe {
    inner: Arc<Mutex<PipeInner>>,
}

#[derive(Debug, Default)]
struct PipeInner {
    buf: Vec<u8>,
    cap: usize,
    dropped: u64,
}

impl CappedPipe {
    pub fn new(cap: usize) -> Self {
        CappedPipe {
            inner: Arc::new(Mutex::new(PipeInner { cap, ..Default::default() })),
        }
    }

    /// What was kept, and how many bytes were dropped.
    pub fn contents(&self) -> (String, u64) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (String::from_utf8_lossy(&inner.buf).into_owned(), inner.dropped)
    }

    fn push(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let room = inner.cap.saturating_sub(inner.buf.len());
        let kept = room.min(bytes.len());
        inner.buf.extend_from_slice(&bytes[..kept]);
        inner.dropped += (bytes.len() - kept) as u64;
    }
}

#[async_trait::async_trait]
impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        self.push(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(64 << 10)
    }
}

#[async_trait::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedPipe {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

/// A WASI context with no ambient authority: no preopened directories, no
/// environment variables, no arguments, no sockets or name lookups, empty stdin;
/// stdout and stderr go to the given capped pipes. Clocks and random remain (they
/// grant nothing).
pub fn wasi_ctx(stdout: &CappedPipe, stderr: &CappedPipe) -> WasiCtx {
    let mut b = WasiCtx::builder();
    b.stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    b.build()
}

/// The store data of one step: WASI, the resource table, the memory cap, and the
/// host side of the step, whose capabilities are linked through [`CapsView`].
pub struct StepState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub memory: MemoryCap,
    pub host: crate::caps::StepHost,
}

impl CapsView for StepState {
    fn caps(&mut self) -> CapsCtx<'_> {
        CapsCtx {
            host: &mut self.host,
            table: &mut self.table,
        }
    }
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn memory_cap_counts_all_memories_together() {
        let mut cap = MemoryCap::new(100);
        assert!(cap.memory_growing(0, 60, None).unwrap());
        assert!(!cap.memory_growing(0, 60, None).unwrap(), "second memory pushes the total over");
        assert!(cap.hit);
        assert!(cap.memory_growing(60, 100, None).unwrap());
    }

    #[test]
    fn pipe_keeps_the_cap_and_counts_the_rest() {
        let pipe = CappedPipe::new(4);
        pipe.push(b"abcdef");
        pipe.push(b"gh");
        assert_eq!(pipe.contents(), ("abcd".to_owned(), 4));
    }
}
