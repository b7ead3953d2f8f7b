//! A small pool of GPU buffers reused across dispatches, keyed by role (which
//! fixes the usage flags) and size class (the next power of two), so a stream
//! of same-sized batches allocates once.
//!
//! ```text
//! take(role, bytes) -> free list (role, class)? --hit--> reuse
//!                                               --miss-> create_buffer(class)
//! give(buffer)      -> back on its free list (at most MAX_IDLE per key; more are dropped)
//! ```
//!
//! A job gives its buffers back only when it succeeded: after a GPU error the
//! buffers' state is unknown, so they are dropped.

use std::collections::HashMap;
use std::sync::Mutex;

/// What a buffer is used for; decides its usage flags and its label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A kernel's `Params`, written by the queue.
    Params,
    /// Input pixels, written by the queue, read by shaders.
    Input,
    /// Written by shaders: an output, or scratch between passes.
    Output,
    /// Host-visible copy of an output, mapped for reading.
    Readback,
}

impl Role {
    /// The usage flags a buffer of this role is created with.
    pub fn usage(self) -> wgpu::BufferUsages {
        use wgpu::BufferUsages as U;
        match self {
            Role::Params => U::UNIFORM | U::COPY_DST,
            Role::Input => U::STORAGE | U::COPY_DST,
            Role::Output => U::STORAGE | U::COPY_SRC,
            Role::Readback => U::MAP_READ | U::COPY_DST,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Params => "params",
            Role::Input => "input",
            Role::Output => "output",
            Role::Readback => "readback",
        }
    }
}

/// Idle buffers kept per (role, size class); the rest are dropped.
pub const MAX_IDLE: usize = 4;

/// Smallest size class, in bytes.
pub const MIN_CLASS: u64 = 256;

/// A buffer taken from the pool; hand it back with [`BufferPool::give`].
#[derive(Debug)]
pub struct Pooled {
    role: Role,
    class: u64,
    buffer: wgpu::Buffer,
}

impl Pooled {
    /// The buffer (at least as large as asked, usually larger).
    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
}

/// The pool. `Sync`: one lock around the free lists, held only to push or pop.
#[derive(Debug)]
pub struct BufferPool {
    free: Mutex<HashMap<(Role, u64), Vec<wgpu::Buffer>>>,
    max_buffer_size: u64,
}

impl BufferPool {
    /// An empty pool for a device whose largest buffer is `max_buffer_size`.
    pub fn new(max_buffer_size: u64) -> Self {
        Self {
            free: Mutex::new(HashMap::new()),
            max_buffer_size,
        }
    }

    /// The size class serving a request of `bytes`: the next power of two
    /// (at least [`MIN_CLASS`]), or `bytes` rounded up to 4 itself where the
    /// power of two would pass the device's limit.
    pub fn size_class(&self, bytes: u64) -> u64 {
        let class = bytes.max(MIN_CLASS).next_power_of_two();
        if class <= self.max_buffer_size {
            class
        } else {
            bytes.next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT)
        }
    }

    /// A buffer of `role` holding at least `bytes`: an idle one of the same
    /// class, or a new one.
    pub fn take(&self, device: &wgpu::Device, role: Role, bytes: u64) -> Pooled {
        let class = self.size_class(bytes);
        let reused = self
            .lock()
            .get_mut(&(role, class))
            .and_then(|list| list.pop());
        let buffer = reused.unwrap_or_else(|| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(&format!("alpr pool {} {class} B", role.name())),
                size: class,
                usage: role.usage(),
                mapped_at_creation: false,
            })
        });
        Pooled {
            role,
            class,
            buffer,
        }
    }

    /// Returns a buffer for reuse (dropped if its free list is full).
    pub fn give(&self, pooled: Pooled) {
        let mut free = self.lock();
        let list = free.entry((pooled.role, pooled.class)).or_default();
        if list.len() < MAX_IDLE {
            list.push(pooled.buffer);
        }
    }

    /// Idle buffers held, all keys together.
    pub fn idle(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Role, u64), Vec<wgpu::Buffer>>> {
        // A panic while holding the lock cannot leave a free list half-made.
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_powers_of_two_within_the_limit() {
        let pool = BufferPool::new(1 << 20);
        assert_eq!(pool.size_class(0), MIN_CLASS);
        assert_eq!(pool.size_class(4), MIN_CLASS);
        assert_eq!(pool.size_class(257), 512);
        assert_eq!(pool.size_class(1 << 20), 1 << 20);
        // Past the limit the class is the request itself (the bind then fails
        // loudly, which is what the caller's size check is for).
        assert_eq!(pool.size_class((1 << 20) + 2), (1 << 20) + 4);
    }

    #[test]
    fn roles_have_distinct_usages() {
        let roles = [Role::Params, Role::Input, Role::Output, Role::Readback];
        for (i, a) in roles.iter().enumerate() {
            for b in &roles[i + 1..] {
                assert_ne!(a.usage(), b.usage());
            }
        }
    }
}
