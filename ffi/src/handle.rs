//! Opaque handles. A C handle is never a real pointer: it is an id, never reused, looked up in a
//! registry of live objects of its type. So a destroyed, foreign or doubly-destroyed handle gives
//! `RMQ_STATUS_INVALID_HANDLE` instead of a use-after-free (issue 6: "destroy twice ... gets a
//! status"), and a call still running on one thread keeps its object alive (an `Arc`) while another
//! thread destroys the handle. Each zero-sized C type is tied to its Rust type by [`Handle`], the
//! role rustls-ffi's `Castable` plays for Box/Arc pointers.

use crate::status::{rmq_status, Fail, FfiResult};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// Live objects of one handle type, by id.
pub(crate) struct Registry<T> {
    name: &'static str,
    live: LazyLock<Mutex<HashMap<usize, Arc<T>>>>,
}

/// Ids are shared by all handle types, so an id of one type is never live in another registry.
/// Multiples of 16 starting at 16: never NULL, and look like aligned pointers to debuggers.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

impl<T> Registry<T> {
    pub(crate) const fn new(name: &'static str) -> Registry<T> {
        Registry { name, live: LazyLock::new(|| Mutex::new(HashMap::new())) }
    }

    /// Register `value`; returns the id to hand out as the C pointer.
    pub(crate) fn insert(&self, value: T) -> usize {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed).wrapping_mul(16);
        self.live.lock().insert(id, Arc::new(value));
        id
    }

    /// The live object behind `id`.
    pub(crate) fn get(&self, id: usize) -> FfiResult<Arc<T>> {
        if id == 0 {
            return Err(Fail::null(self.name));
        }
        match self.live.lock().get(&id) {
            Some(v) => Ok(v.clone()),
            None => Err(Fail::new(
                rmq_status::InvalidHandle,
                format!(
                    "{} {id:#x} is not a live handle (destroyed already, or never created)",
                    self.name
                ),
            )),
        }
    }

    /// Unregister `id`; the object is dropped once no running call holds it.
    pub(crate) fn remove(&self, id: usize) -> FfiResult<Arc<T>> {
        if id == 0 {
            return Err(Fail::null(self.name));
        }
        match self.live.lock().remove(&id) {
            Some(v) => Ok(v),
            None => Err(Fail::new(
                rmq_status::InvalidHandle,
                format!("{} {id:#x} is not a live handle (destroyed twice?)", self.name),
            )),
        }
    }
}

/// Ties a zero-sized C handle type to the Rust object behind it.
pub(crate) trait Handle: Sized {
    /// The Rust object a handle of this type stands for.
    type Target: 'static;
    /// The registry of live objects of this type.
    fn registry() -> &'static Registry<Self::Target>;

    /// Register `value` and return it as a C handle.
    fn into_handle(value: Self::Target) -> *mut Self {
        Self::registry().insert(value) as *mut Self
    }
    /// Look a C handle up.
    fn get(h: *const Self) -> FfiResult<Arc<Self::Target>> {
        Self::registry().get(h as usize)
    }
    /// Unregister a C handle (destroy).
    fn remove(h: *const Self) -> FfiResult<Arc<Self::Target>> {
        Self::registry().remove(h as usize)
    }
}

/// Declare the registry of one handle type.
macro_rules! handle_type {
    ($c:ty, $target:ty, $name:literal) => {
        impl $crate::handle::Handle for $c {
            type Target = $target;
            fn registry() -> &'static $crate::handle::Registry<$target> {
                static REGISTRY: $crate::handle::Registry<$target> =
                    $crate::handle::Registry::new($name);
                &REGISTRY
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing;
    struct CThing;
    handle_type!(CThing, Thing, "thing");

    #[test]
    fn destroyed_and_foreign_handles_are_rejected_and_ids_never_repeat() {
        let a = CThing::into_handle(Thing);
        let b = CThing::into_handle(Thing);
        assert_ne!(a, b);
        assert!(CThing::get(a).is_ok());
        assert!(CThing::remove(a).is_ok());
        assert_eq!(CThing::get(a).err().map(|f| f.status), Some(rmq_status::InvalidHandle));
        assert_eq!(CThing::remove(a).err().map(|f| f.status), Some(rmq_status::InvalidHandle));
        let c = CThing::into_handle(Thing);
        assert_ne!(c, a, "a destroyed id is never handed out again");
        assert_eq!(
            CThing::get(std::ptr::null()).err().map(|f| f.status),
            Some(rmq_status::NullPointer)
        );
        assert_eq!(
            CThing::get(0x1230 as *const CThing).err().map(|f| f.status),
            Some(rmq_status::InvalidHandle)
        );
        assert!(CThing::remove(b).is_ok() && CThing::remove(c).is_ok());
    }

    #[test]
    fn a_call_in_progress_keeps_its_object_alive_across_destroy() {
        let h = CThing::into_handle(Thing);
        let held = CThing::get(h).unwrap();
        let removed = CThing::remove(h).unwrap();
        assert_eq!(Arc::strong_count(&held), 2);
        drop(removed);
        assert_eq!(Arc::strong_count(&held), 1);
    }
}
