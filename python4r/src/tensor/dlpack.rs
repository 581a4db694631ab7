//! DLPack on the CPU: python4r as a DLPack producer (any consumer, `np.from_dlpack`, torch, jax,
//! takes a tensor without a copy) and consumer (any producer's object becomes a tensor without a
//! copy). Own implementation of the DLPack 1.x ABI (`dlpack.h`), versioned and legacy capsules.
//!
//! # Device tensors
//!
//! Only CPU memory is produced and accepted (`kDLCPU`, and `kDLCUDAHost` pinned memory, which
//! the CPU can address). A CUDA tensor would flow through the same path: its `__dlpack_device__`
//! says `(kDLCUDA, id)`, the consumer passes its own CUDA stream to `__dlpack__(stream=...)` so
//! the producer can order its pending work before the handover, and the `DLTensor` then points to
//! device memory. A device-aware `Tensor` would keep the device next to its storage and only
//! allow host reads after an explicit copy (`.to_host()`), as python4j's CUDA note synchronises
//! to host before crossing. Until then a device tensor is refused with an error saying to copy it
//! to the CPU first (`t.cpu()` in torch).

use std::ffi::{CStr, c_void};
use std::ptr::{self, NonNull};

use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;

use super::{DType, Dims, Storage, Tensor, c_strides};
use crate::error::{Error, Result};

const CPU: i32 = 1;
const CUDA_HOST: i32 = 3;
const FLAG_READ_ONLY: u64 = 1;
const FLAG_IS_COPIED: u64 = 1 << 1;

const VERSIONED: &CStr = c"dltensor_versioned";
const USED_VERSIONED: &CStr = c"used_dltensor_versioned";
const LEGACY: &CStr = c"dltensor";
const USED_LEGACY: &CStr = c"used_dltensor";

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDevice {
    device_type: i32,
    device_id: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct DLDataType {
    code: u8,
    bits: u8,
    lanes: u16,
}

#[repr(C)]
struct DLTensor {
    data: *mut c_void,
    device: DLDevice,
    ndim: i32,
    dtype: DLDataType,
    shape: *mut i64,
    strides: *mut i64,
    byte_offset: u64,
}

#[repr(C)]
struct DLManagedTensor {
    dl_tensor: DLTensor,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensor)>,
}

#[repr(C)]
struct DLPackVersion {
    major: u32,
    minor: u32,
}

#[repr(C)]
struct DLManagedTensorVersioned {
    version: DLPackVersion,
    manager_ctx: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut DLManagedTensorVersioned)>,
    flags: u64,
    dl_tensor: DLTensor,
}

/// DLPack's type of `dtype`; checked by [`exportable`] before a producer is made.
fn dl_dtype(dtype: DType) -> DLDataType {
    let (code, bits) = dtype
        .dlpack()
        .expect("producers are only made of dtypes DLPack has");
    DLDataType {
        code,
        bits,
        lanes: 1,
    }
}

/// An error unless DLPack has a type for `dtype` (it has none for dates and durations).
fn exportable(dtype: DType) -> Result<()> {
    match dtype.dlpack() {
        Some(_) => Ok(()),
        None => Err(Error::UnsupportedDType {
            dtype: dtype.to_string(),
            variable: None,
            reason: "DLPack has no date or duration type: pass the tensor to numpy \
                     (`to_numpy`), or its counts (`cast(DType::Int64)`)"
                .to_owned(),
        }),
    }
}

fn from_dl_dtype(t: DLDataType) -> Result<DType> {
    match DType::from_dlpack(t.code, t.bits) {
        Some(dtype) if t.lanes == 1 => Ok(dtype),
        _ => Err(Error::UnsupportedDType {
            dtype: format!(
                "DLPack type code {}, {} bits, {} lanes",
                t.code, t.bits, t.lanes
            ),
            variable: None,
            reason: format!("a Tensor holds {}, one lane each", DType::names()),
        }),
    }
}

/// DLPack's name of a device (`CUDA:0`), for messages.
fn device_name(device_type: i32, device_id: i32) -> String {
    let name = match device_type {
        1 => "CPU",
        2 => "CUDA",
        3 => "CUDAHost",
        4 => "OpenCL",
        7 => "Vulkan",
        8 => "Metal",
        9 => "VPI",
        10 => "ROCM",
        11 => "ROCMHost",
        12 => "ExtDev",
        13 => "CUDAManaged",
        14 => "OneAPI",
        15 => "WebGPU",
        16 => "Hexagon",
        17 => "MAIA",
        _ => return format!("type {device_type}:{device_id}"),
    };
    format!("{name}:{device_id}")
}

/// What a capsule's `manager_ctx` points to: the tensor (keeping its storage alive) and the
/// shape and strides the `DLTensor` points into.
struct Export<M> {
    _tensor: Tensor,
    _shape: Vec<i64>,
    _strides: Vec<i64>,
    managed: M,
}

/// Leaks `export` and returns the address of its managed tensor, whose `manager_ctx` (reached
/// through `ctx`) points back at the export so that the deleter can reclaim it.
fn leak<M>(export: Export<M>, ctx: impl FnOnce(&mut M) -> &mut *mut c_void) -> *mut c_void {
    let export = Box::into_raw(Box::new(export));
    // SAFETY: `export` was just leaked, so it is valid and unaliased; the deleter reclaims it
    // through `manager_ctx`.
    unsafe {
        *ctx(&mut (*export).managed) = export.cast();
        ptr::addr_of_mut!((*export).managed).cast::<c_void>()
    }
}

unsafe extern "C" fn delete_versioned(managed: *mut DLManagedTensorVersioned) {
    // SAFETY: `manager_ctx` is the `Box<Export<_>>` leaked in `capsule`, and DLPack calls the
    // deleter exactly once.
    drop(unsafe {
        Box::from_raw(
            (*managed)
                .manager_ctx
                .cast::<Export<DLManagedTensorVersioned>>(),
        )
    });
}

unsafe extern "C" fn delete_legacy(managed: *mut DLManagedTensor) {
    // SAFETY: as `delete_versioned`.
    drop(unsafe { Box::from_raw((*managed).manager_ctx.cast::<Export<DLManagedTensor>>()) });
}

unsafe extern "C" fn capsule_destructor(capsule: *mut ffi::PyObject) {
    // SAFETY: called by Python with the capsule. A capsule still named `dltensor[_versioned]`
    // was never consumed, so the producer (us) must call the deleter; a consumed one was
    // renamed and its consumer owns it.
    unsafe {
        if ffi::PyCapsule_IsValid(capsule, VERSIONED.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(capsule, VERSIONED.as_ptr())
                .cast::<DLManagedTensorVersioned>();
            if let Some(deleter) = (*m).deleter {
                deleter(m);
            }
        } else if ffi::PyCapsule_IsValid(capsule, LEGACY.as_ptr()) == 1 {
            let m = ffi::PyCapsule_GetPointer(capsule, LEGACY.as_ptr()).cast::<DLManagedTensor>();
            if let Some(deleter) = (*m).deleter {
                deleter(m);
            }
        }
    }
}

/// The DLPack view of `t` (element strides), or a C-contiguous copy when its byte strides are not
/// whole elements.
fn dl_layout(t: &Tensor) -> (Tensor, Vec<i64>, Vec<i64>) {
    let size = t.dtype().size() as isize;
    let t = if t.strides().iter().any(|s| s % size != 0) {
        t.to_contiguous_copy()
    } else {
        t.clone()
    };
    let shape = t.shape().iter().map(|&d| d as i64).collect();
    let strides = t.strides().iter().map(|&s| (s / size) as i64).collect();
    (t, shape, strides)
}

fn capsule(py: Python<'_>, t: Tensor, versioned: bool, flags: u64) -> PyResult<Bound<'_, PyAny>> {
    let (t, mut shape, mut strides) = dl_layout(&t);
    let dl_tensor = DLTensor {
        data: t.data_ptr().cast_mut().cast::<c_void>(),
        device: DLDevice {
            device_type: CPU,
            device_id: 0,
        },
        ndim: t.ndim() as i32,
        dtype: dl_dtype(t.dtype()),
        shape: shape.as_mut_ptr(),
        strides: strides.as_mut_ptr(),
        byte_offset: 0,
    };
    let (ptr, name) = if versioned {
        let managed = DLManagedTensorVersioned {
            version: DLPackVersion { major: 1, minor: 0 },
            manager_ctx: ptr::null_mut(),
            deleter: Some(delete_versioned),
            flags,
            dl_tensor,
        };
        let export = Export {
            _tensor: t,
            _shape: shape,
            _strides: strides,
            managed,
        };
        (leak(export, |m| &mut m.manager_ctx), VERSIONED)
    } else {
        let managed = DLManagedTensor {
            dl_tensor,
            manager_ctx: ptr::null_mut(),
            deleter: Some(delete_legacy),
        };
        let export = Export {
            _tensor: t,
            _shape: shape,
            _strides: strides,
            managed,
        };
        (leak(export, |m| &mut m.manager_ctx), LEGACY)
    };
    // SAFETY: `ptr` is a live managed tensor; the capsule's destructor frees it unless a
    // consumer renamed the capsule (taking ownership). If creation fails, free it here.
    unsafe {
        let cap = ffi::PyCapsule_New(ptr, name.as_ptr(), Some(capsule_destructor));
        if cap.is_null() {
            if versioned {
                delete_versioned(ptr.cast());
            } else {
                delete_legacy(ptr.cast());
            }
        }
        Bound::from_owned_ptr_or_err(py, cap)
    }
}

/// Makes reads of memory Python may write take the GIL (see [`Storage::locked`]).
pub(crate) fn install_gil_lock() {
    super::storage::install_python_lock(|f| Python::attach(|_| f()));
}

/// A python4r tensor seen from Python as a DLPack producer (`__dlpack__`,
/// `__dlpack_device__`): pass it to `np.from_dlpack`, `torch.from_dlpack`, `jax.dlpack.from_dlpack`.
#[pyclass(frozen, name = "DLPackTensor", module = "python4r")]
pub struct DLPackTensor {
    tensor: Tensor,
    read_only: bool,
}

#[pymethods]
impl DLPackTensor {
    #[pyo3(signature = (*, stream = None, max_version = None, dl_device = None, copy = None))]
    fn __dlpack__<'py>(
        &self,
        py: Python<'py>,
        stream: Option<Bound<'py, PyAny>>,
        max_version: Option<(u32, u32)>,
        dl_device: Option<(i32, i32)>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = stream; // CPU memory: nothing to synchronise.
        if let Some((ty, _)) = dl_device
            && ty != CPU
        {
            return Err(PyBufferError::new_err(
                "python4r tensors live on the CPU (kDLCPU)",
            ));
        }
        let versioned = max_version.is_some_and(|(major, _)| major >= 1);
        // A legacy capsule cannot say "read-only": give such consumers a copy.
        let must_copy = copy == Some(true) || (self.read_only && !versioned);
        if must_copy && copy == Some(false) {
            return Err(PyBufferError::new_err(
                "a read-only tensor needs a versioned DLPack consumer (max_version >= (1, 0)) to be \
                 shared without a copy",
            ));
        }
        let (t, mut flags) = if must_copy {
            (self.tensor.to_contiguous_copy(), FLAG_IS_COPIED)
        } else {
            (
                self.tensor.clone(),
                if self.read_only { FLAG_READ_ONLY } else { 0 },
            )
        };
        if copy == Some(false) && dl_layout(&t).0.data_ptr() != t.data_ptr() {
            return Err(PyBufferError::new_err(
                "this layout cannot be shared without a copy",
            ));
        }
        if !versioned {
            flags = 0;
        }
        capsule(py, t, versioned, flags)
    }

    fn __dlpack_device__(&self) -> (i32, i32) {
        (CPU, 0)
    }

    fn __repr__(&self) -> String {
        format!("<python4r.DLPackTensor {}>", self.tensor)
    }
}

/// Frees a consumed DLPack tensor when the storage that shares its memory drops.
struct Imported {
    versioned: bool,
    managed: NonNull<c_void>,
}

// SAFETY: DLPack lets the consumer call the deleter from any thread; the pointer is only used
// for that, once.
unsafe impl Send for Imported {}
// SAFETY: `&Imported` allows nothing.
unsafe impl Sync for Imported {}

impl Drop for Imported {
    fn drop(&mut self) {
        // SAFETY: the managed tensor was consumed (capsule renamed) by `from_dlpack`, which made
        // us its sole owner; its deleter is called exactly once, here.
        unsafe {
            if self.versioned {
                let m = self.managed.as_ptr().cast::<DLManagedTensorVersioned>();
                if let Some(d) = (*m).deleter {
                    d(m);
                }
            } else {
                let m = self.managed.as_ptr().cast::<DLManagedTensor>();
                if let Some(d) = (*m).deleter {
                    d(m);
                }
            }
        }
    }
}

impl Tensor {
    /// A DLPack producer over this tensor's memory, **read-only** (versioned DLPack flag), for
    /// `np.from_dlpack`, `torch.from_dlpack` and the like. Consumers that only speak legacy
    /// (unversioned) DLPack get a copy, since they cannot be told the memory is read-only.
    ///
    /// # Errors
    /// [`Error::UnsupportedDType`] for dates and durations, which DLPack has no type for.
    ///
    /// # Example
    ///
    /// ```
    /// use python4r::Tensor;
    /// use python4r::pyo3::prelude::*;
    /// let t = Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6], &[2, 3])?;
    /// python4r::with_gil(|py| {
    ///     let producer = t.transpose().to_dlpack(py)?;
    ///     let np = py.import("numpy")?;
    ///     let arr = np.call_method1("from_dlpack", (producer,))?;
    /// #   let v: String = np.getattr("__version__")?.extract()?;
    /// #   let numpy_2_1 = python4r::eval::<bool>(&format!("tuple(map(int, '{v}'.split('.')[:2])) >= (2, 1)"))?;
    /// #   if numpy_2_1 { // older numpy speaks legacy DLPack only, and gets a copy
    ///     assert_eq!(arr.getattr("ctypes")?.getattr("data")?.extract::<usize>()?, t.data_ptr() as usize);
    /// #   }
    ///     assert!(!arr.getattr("flags")?.getattr("writeable")?.extract::<bool>()?);
    ///     assert_eq!(arr.call_method0("tolist")?.extract::<Vec<Vec<i32>>>()?, [[1, 4], [2, 5], [3, 6]]);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_dlpack<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        exportable(self.dtype())?;
        let producer = DLPackTensor {
            tensor: self.clone(),
            read_only: true,
        };
        Ok(Bound::new(py, producer)
            .map_err(|e| Error::from_pyerr(py, e))?
            .into_any())
    }

    /// A **writable** DLPack producer: the tensor is given up, so nothing in Rust can observe
    /// the consumer's writes. Its storage is copied first if another tensor or export shares it.
    ///
    /// ```
    /// use python4r::Tensor;
    /// use python4r::pyo3::prelude::*;
    /// let t = Tensor::from_vec(vec![1.0f64, 2.0], &[2])?;
    /// python4r::with_gil(|py| {
    ///     let arr = py.import("numpy")?.call_method1("from_dlpack", (t.into_dlpack(py)?,))?;
    /// #   if !arr.getattr("flags")?.getattr("writeable")?.extract::<bool>()? {
    /// #       return Ok(()); // numpy before 2.1 makes every DLPack import read-only
    /// #   }
    ///     arr.call_method1("__imul__", (10,))?;
    ///     assert_eq!(arr.call_method0("tolist")?.extract::<Vec<f64>>()?, [10.0, 20.0]);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn into_dlpack(mut self, py: Python<'_>) -> Result<Bound<'_, PyAny>> {
        exportable(self.dtype())?;
        install_gil_lock();
        self.make_unique();
        self.storage().set_python_may_write(true);
        let producer = DLPackTensor {
            tensor: self,
            read_only: false,
        };
        Ok(Bound::new(py, producer)
            .map_err(|e| Error::from_pyerr(py, e))?
            .into_any())
    }

    /// A tensor over the memory of any DLPack producer on the CPU (an object with `__dlpack__`,
    /// or a `dltensor` capsule), without a copy. The tensor keeps the producer's memory alive and
    /// calls its deleter when the last tensor sharing it drops.
    ///
    /// # Errors
    /// [`Error::UnsupportedDType`] naming the DLPack type for types a tensor cannot hold;
    /// [`Error::UnsupportedDevice`] for memory on another device.
    ///
    /// # Example
    ///
    /// ```
    /// use python4r::{DType, Tensor};
    /// use python4r::pyo3::prelude::*;
    /// python4r::with_gil(|py| {
    ///     let np = py.import("numpy")?;
    ///     let arr = np.call_method1("arange", (12u8,))?.call_method1("reshape", (3, 4))?;
    ///     let t = Tensor::from_dlpack(&arr)?;
    ///     assert_eq!((t.dtype(), t.shape()), (DType::Int64, &[3usize, 4][..]));
    ///     assert_eq!(t.data_ptr() as usize, arr.getattr("ctypes")?.getattr("data")?.extract::<usize>()?);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_dlpack(obj: &Bound<'_, PyAny>) -> Result<Tensor> {
        let py = obj.py();
        install_gil_lock();
        let err = |e: PyErr| Error::from_pyerr(py, e);
        let capsule = if obj.hasattr("__dlpack__").map_err(err)? {
            let device: (i32, i32) = obj
                .call_method0("__dlpack_device__")
                .map_err(err)?
                .extract()
                .map_err(err)?;
            if device.0 != CPU && device.0 != CUDA_HOST {
                return Err(Error::UnsupportedDevice {
                    device: device_name(device.0, device.1),
                });
            }
            let kwargs = [("max_version", (1u32, 0u32))]
                .into_py_dict(py)
                .map_err(err)?;
            match obj.call_method("__dlpack__", (), Some(&kwargs)) {
                Ok(c) => c,
                // A producer from before DLPack 1.0 takes no `max_version`.
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyTypeError>(py) => {
                    obj.call_method0("__dlpack__").map_err(err)?
                }
                Err(e) => return Err(err(e)),
            }
        } else {
            obj.clone()
        };
        let raw = capsule.as_ptr();
        // SAFETY: `raw` is a live object; PyCapsule_IsValid accepts any object.
        let versioned = unsafe { ffi::PyCapsule_IsValid(raw, VERSIONED.as_ptr()) } == 1;
        // SAFETY: as above.
        let legacy = unsafe { ffi::PyCapsule_IsValid(raw, LEGACY.as_ptr()) } == 1;
        if !versioned && !legacy {
            return Err(Error::conversion(
                obj,
                "python4r::Tensor",
                "expected a DLPack producer or an unused `dltensor` capsule",
            ));
        }
        // SAFETY: the capsule holds a DLManagedTensor[Versioned] by the DLPack protocol (its name
        // says which); renaming it to `used_...` makes us its owner (the capsule's destructor
        // will then leave it alone), and `Imported` calls its deleter once when dropped.
        unsafe {
            let name = if versioned { VERSIONED } else { LEGACY };
            let managed = ffi::PyCapsule_GetPointer(raw, name.as_ptr());
            let Some(managed) = NonNull::new(managed) else {
                return Err(Error::from_pyerr(py, PyErr::fetch(py)));
            };
            let (dl, flags) = if versioned {
                let m = managed.as_ptr().cast::<DLManagedTensorVersioned>();
                if (*m).version.major != 1 {
                    return Err(Error::conversion(
                        obj,
                        "python4r::Tensor",
                        format!(
                            "DLPack version {}.{} is not supported (python4r reads 1.x)",
                            (*m).version.major,
                            (*m).version.minor
                        ),
                    ));
                }
                (ptr::addr_of!((*m).dl_tensor), (*m).flags)
            } else {
                (
                    ptr::addr_of!((*managed.as_ptr().cast::<DLManagedTensor>()).dl_tensor),
                    0,
                )
            };
            let used = if versioned {
                USED_VERSIONED
            } else {
                USED_LEGACY
            };
            if ffi::PyCapsule_SetName(raw, used.as_ptr()) != 0 {
                return Err(Error::from_pyerr(py, PyErr::fetch(py)));
            }
            let owner = Imported { versioned, managed };
            let dl = &*dl;
            if dl.device.device_type != CPU && dl.device.device_type != CUDA_HOST {
                return Err(Error::UnsupportedDevice {
                    device: device_name(dl.device.device_type, dl.device.device_id),
                });
            }
            let dtype = from_dl_dtype(dl.dtype)?;
            let ndim = usize::try_from(dl.ndim).unwrap_or(0);
            let shape: Dims<usize> = if ndim == 0 {
                Dims::new()
            } else {
                std::slice::from_raw_parts(dl.shape, ndim)
                    .iter()
                    .map(|&d| d as usize)
                    .collect()
            };
            let size = dtype.size() as isize;
            let strides: Dims<isize> = if dl.strides.is_null() || ndim == 0 {
                c_strides(&shape, dtype.size())
            } else {
                std::slice::from_raw_parts(dl.strides, ndim)
                    .iter()
                    .map(|&s| s as isize * size)
                    .collect()
            };
            let data = dl.data.cast::<u8>().wrapping_add(dl.byte_offset as usize);
            let read_only = flags & FLAG_READ_ONLY != 0;
            let ptr = NonNull::new(data).unwrap_or(NonNull::dangling());
            let owner: super::storage::ForeignOwner = Box::new(owner);
            let storage = Storage::foreign(ptr, owner, read_only, !read_only);
            Ok(Tensor::from_parts(storage, dtype, shape, strides, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtypes_by_code_and_bits() {
        let dl = |code, bits, lanes| DLDataType { code, bits, lanes };
        assert_eq!(from_dl_dtype(dl(5, 128, 1)).unwrap(), DType::Complex128);
        // complex32 (two f16) and vectors of lanes are not dtypes of ours.
        let err = from_dl_dtype(dl(5, 32, 1)).unwrap_err();
        assert!(err.to_string().contains("type code 5, 32 bits"), "{err}");
        assert!(from_dl_dtype(dl(2, 32, 4)).is_err());
    }
}
