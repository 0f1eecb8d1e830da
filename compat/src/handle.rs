//! Opaque handles. A `CProducer*`, `CMessage*`, ... handed to C is never a real pointer: it is an
//! id, never reused, looked up in a registry of live objects of its type. A NULL, destroyed,
//! doubly-destroyed or foreign handle is therefore recognised and answered with NULL_POINTER
//! (issue 15: "a NULL or destroyed handle returns NULL_POINTER, never a crash"), and a call
//! running on one thread keeps its object alive (an `Arc`) while another thread destroys it.
//! Apache's library casts the pointer and dereferences it.

use crate::status::{Fail, Result, NULL_POINTER};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// Live objects of one handle type, by id.
pub(crate) struct Registry<T> {
    name: &'static str,
    live: LazyLock<RwLock<HashMap<usize, Arc<T>>>>,
}

/// Ids are shared by all handle types, so an id of one type is never live in another registry.
/// Multiples of 16 from 16: never NULL, aligned like the pointers they stand in for.
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

impl<T> Registry<T> {
    pub(crate) const fn new(name: &'static str) -> Registry<T> {
        Registry { name, live: LazyLock::new(|| RwLock::new(HashMap::new())) }
    }

    /// Register `value`; returns the id handed to C.
    pub(crate) fn insert(&self, value: T) -> usize {
        self.insert_arc(Arc::new(value))
    }

    /// Register an object that is already shared.
    pub(crate) fn insert_arc(&self, value: Arc<T>) -> usize {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed).wrapping_mul(16);
        self.live.write().insert(id, value);
        id
    }

    /// The live object behind `id`, if it is one.
    pub(crate) fn find(&self, id: usize) -> Option<Arc<T>> {
        if id == 0 {
            return None;
        }
        self.live.read().get(&id).cloned()
    }

    /// The live object behind `id`, or NULL_POINTER saying why not.
    pub(crate) fn get(&self, id: usize) -> Result<Arc<T>> {
        if id == 0 {
            return Err(Fail::null(self.name));
        }
        self.find(id).ok_or_else(|| self.not_live(id))
    }

    /// Unregister `id`; the object is dropped once no running call holds it.
    pub(crate) fn remove(&self, id: usize) -> Result<Arc<T>> {
        if id == 0 {
            return Err(Fail::null(self.name));
        }
        self.live.write().remove(&id).ok_or_else(|| self.not_live(id))
    }

    fn not_live(&self, id: usize) -> Fail {
        Fail::new(
            NULL_POINTER,
            format!(
                "{} {id:#x} is not a live handle (destroyed already, or never created)",
                self.name
            ),
        )
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
    /// Look a C handle up (NULL_POINTER if it is not live).
    fn get(h: *const Self) -> Result<Arc<Self::Target>> {
        Self::registry().get(h as usize)
    }
    /// Look a C handle up, `None` if it is not live.
    fn find(h: *const Self) -> Option<Arc<Self::Target>> {
        Self::registry().find(h as usize)
    }
    /// Unregister a C handle (destroy).
    fn remove(h: *const Self) -> Result<Arc<Self::Target>> {
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
    handle_type!(CThing, Thing, "CThing");

    #[test]
    fn destroyed_null_and_foreign_handles_are_null_pointer_and_ids_never_repeat() {
        let a = CThing::into_handle(Thing);
        let b = CThing::into_handle(Thing);
        assert_ne!(a, b);
        assert!(CThing::get(a).is_ok());
        assert!(CThing::remove(a).is_ok());
        assert_eq!(CThing::get(a).err().map(|f| f.code), Some(NULL_POINTER));
        assert_eq!(CThing::remove(a).err().map(|f| f.code), Some(NULL_POINTER));
        assert_ne!(CThing::into_handle(Thing), a, "a destroyed id is never handed out again");
        assert_eq!(CThing::get(std::ptr::null()).err().map(|f| f.code), Some(NULL_POINTER));
        assert!(CThing::find(0x1230 as *const CThing).is_none());
        assert!(CThing::remove(b).is_ok());
    }
}
