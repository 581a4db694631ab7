//! How a `#[py_exec]` parameter or return value crosses: python4r's own conversion of its type
//! when python4r has one, else pyo3's conversion traits.
//!
//! python4r's public conversion traits ([`ToPython`](crate::ToPython),
//! [`FromPython`](crate::FromPython)) are blanket impls over pyo3's, so that a type of your own
//! crosses once it implements pyo3's traits. The same blankets mean python4r cannot implement
//! them for a type of another crate (an Arrow `RecordBatch`): coherence refuses it, since the
//! other crate or pyo3 may add pyo3's traits later. Generated code therefore picks the
//! conversion per concrete type, by method resolution (autoref specialisation, as `anyhow!`
//! does): `(&Conv::<T>::new()).to_python(&value, py)` (or `.extract(obj)` for returns) finds [`NativeInput`], implemented by
//! python4r for `Conv<T>`, before [`Pyo3Input`], implemented for every `&Conv<T>`, whose
//! `T: Input` bound then says what is missing when neither fits.

use std::marker::PhantomData;

use pyo3::prelude::*;

#[cfg(feature = "arrow")]
use arrow_array::{ArrayRef, RecordBatch};

use crate::convert::{FromPython, ToPython, ToPythonMut};
use crate::error::Result;
#[cfg(feature = "numpy")]
use crate::tensor::Tensor;

/// A parameter type of a `#[py_exec]` function, passed by value or by `&`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed to Python",
    label = "this parameter type has no conversion to Python",
    note = "a `#[py_exec]` parameter `x: T` or `x: &T` needs `T: python4r::ToPython` (pyo3's `IntoPyObject` for `&T`)"
)]
pub trait Input {
    /// Converts the value for the call.
    fn to_python<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>>;
}

#[diagnostic::do_not_recommend]
impl<T: ?Sized + ToPython> Input for T {
    #[inline]
    fn to_python<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        ToPython::to_python(self, py)
    }
}

/// A parameter type of a `#[py_exec]` function, passed by `&mut`.
#[diagnostic::on_unimplemented(
    message = "`&mut {Self}` cannot be passed to Python",
    label = "this type cannot be lent writable to Python",
    note = "a `#[py_exec]` parameter `x: &mut T` needs `T: python4r::ToPythonMut`; pass `&T` for read-only access"
)]
pub trait InputMut {
    /// Converts the value for a call that may change it.
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>>;
    /// Reads back or releases the value after the call.
    fn after_call(&mut self, obj: &Bound<'_, PyAny>) -> Result<()>;

    /// Lends the value to Python for one call, behind a guard that releases it.
    #[inline]
    fn lend<'a, 'py>(&'a mut self, py: Python<'py>, name: &'static str) -> Result<Lent<'a, 'py>>
    where
        Self: Sized,
    {
        Lent::new(self, py, name)
    }
}

#[diagnostic::do_not_recommend]
impl<T: ?Sized + ToPythonMut> InputMut for T {
    #[inline]
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        ToPythonMut::to_python_mut(self, py)
    }

    #[inline]
    fn after_call(&mut self, obj: &Bound<'_, PyAny>) -> Result<()> {
        ToPythonMut::after_call(self, obj)
    }
}

/// A return type (or tuple element) of a `#[py_exec]` function.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from Python",
    label = "this return type has no conversion from Python",
    note = "a `#[py_exec]` return type `T` (or `Result<T>`) needs `T: python4r::FromPython` (pyo3's `FromPyObject`)"
)]
pub trait Output: Sized {
    /// Converts an output variable.
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: FromPython> Output for T {
    #[inline]
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self> {
        FromPython::from_python(obj)
    }
}

/// A `&mut` parameter lent to Python for one call (the writable object
/// [`InputMut::to_python_mut`] made), released ([`InputMut::after_call`]) exactly once: by
/// [`Lent::release`] on the normal path, which reports a release error, or by `Drop` when the call
/// is cut short (a later parameter failed to convert, or a panic), as pyo3's argument holders do.
///
/// The value is held as `dyn InputMut`, so that the guard type is well-formed even for a type
/// that cannot cross: the one error is then the one at the parameter's type.
pub struct Lent<'a, 'py> {
    value: &'a mut dyn InputMut,
    object: Bound<'py, PyAny>,
    /// The Python variable, named in errors.
    name: &'static str,
    released: bool,
}

impl<'a, 'py> Lent<'a, 'py> {
    /// Converts `value` for the call; an error names the variable.
    #[inline]
    fn new(value: &'a mut dyn InputMut, py: Python<'py>, name: &'static str) -> Result<Self> {
        let object = value
            .to_python_mut(py)
            .map_err(|error| error.with_variable(name))?;
        Ok(Lent {
            value,
            object,
            name,
            released: false,
        })
    }

    /// The object Python sees.
    #[inline]
    pub fn object(&self) -> &Bound<'py, PyAny> {
        &self.object
    }

    /// Releases the value after the call; an error names the variable.
    #[inline]
    pub fn release(mut self) -> Result<()> {
        self.released = true;
        self.value
            .after_call(&self.object)
            .map_err(|error| error.with_variable(self.name))
    }
}

impl Drop for Lent<'_, '_> {
    fn drop(&mut self) {
        if !self.released {
            // The call already failed (or is unwinding): its error is the one to report.
            let _ = self.value.after_call(&self.object);
        }
    }
}

/// The result of a call that lent `&mut` parameters, given the result of every release (an
/// array: all of them ran, whatever the call did): the call's own error comes first, then the
/// first release error.
#[inline]
pub fn after_release<T, const N: usize>(
    outcome: Result<T>,
    releases: [Result<()>; N],
) -> Result<T> {
    let value = outcome?;
    releases.into_iter().try_for_each(|release| release)?;
    Ok(value)
}

/// Selects the conversion of the concrete type `T`: python4r's own ([`NativeInput`],
/// [`NativeOutput`]) when it has one, else pyo3's ([`Pyo3Input`], [`Pyo3Output`]).
pub struct Conv<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Conv<T> {
    /// The selector for `T`.
    #[inline]
    pub const fn new() -> Conv<T> {
        Conv(PhantomData)
    }
}

impl<T: ?Sized> Default for Conv<T> {
    fn default() -> Self {
        Conv::new()
    }
}

/// python4r's own conversion of a parameter of type `T` (passed by value or by `&`), chosen
/// before pyo3's: implemented for `Conv<T>`.
pub trait NativeInput<T: ?Sized> {
    /// Converts the value for the call.
    fn to_python<'py>(&self, value: &T, py: Python<'py>) -> Result<Bound<'py, PyAny>>;
}

/// python4r's own conversion of a return value (or tuple element) of type `T`, chosen before
/// pyo3's: implemented for `Conv<T>`.
pub trait NativeOutput<T> {
    /// Converts an output variable.
    fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<T>;
}

/// The fallback for parameters: pyo3's traits, through [`Input`].
pub trait Pyo3Input<T: ?Sized> {
    /// Converts the value for the call.
    fn to_python<'py>(&self, value: &T, py: Python<'py>) -> Result<Bound<'py, PyAny>>
    where
        T: Input;
}

impl<T: ?Sized> Pyo3Input<T> for &Conv<T> {
    #[inline]
    #[track_caller]
    fn to_python<'py>(&self, value: &T, py: Python<'py>) -> Result<Bound<'py, PyAny>>
    where
        T: Input,
    {
        Input::to_python(value, py)
    }
}

/// The fallback for returns: pyo3's traits, through [`Output`].
pub trait Pyo3Output<T> {
    /// Converts an output variable.
    fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<T>
    where
        T: Output;
}

impl<T> Pyo3Output<T> for &Conv<T> {
    #[inline]
    fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<T>
    where
        T: Output,
    {
        Output::from_python(obj)
    }
}

/// An argument type of a Rust function that Python calls (a `#[py_exec]` parameter
/// `f: &dyn Fn(A, ..) -> R`): converted from what Python passes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a Rust function that Python calls",
    label = "this argument type has no conversion from Python",
    note = "an argument `A` of `&dyn Fn(A) -> R` needs `A: python4r::FromPython` (pyo3's `FromPyObject`); `&T` is converted as `T`"
)]
pub trait Argument: Sized {
    /// Converts a Python argument.
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self>;
}

#[diagnostic::do_not_recommend]
impl<T: FromPython> Argument for T {
    #[inline]
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self> {
        FromPython::from_python(obj)
    }
}

/// python4r's own conversion of an argument of a Rust function Python calls: the one of
/// returns ([`NativeOutput`]), chosen before pyo3's.
pub trait NativeArgument<T> {
    /// Converts a Python argument.
    fn argument(&self, obj: &Bound<'_, PyAny>) -> Result<T>;
}

impl<T> NativeArgument<T> for Conv<T>
where
    Conv<T>: NativeOutput<T>,
{
    #[inline]
    fn argument(&self, obj: &Bound<'_, PyAny>) -> Result<T> {
        self.extract(obj)
    }
}

/// The fallback for arguments of Rust functions Python calls: pyo3's traits, through
/// [`Argument`].
pub trait Pyo3Argument<T> {
    /// Converts a Python argument.
    fn argument(&self, obj: &Bound<'_, PyAny>) -> Result<T>
    where
        T: Argument;
}

impl<T> Pyo3Argument<T> for &Conv<T> {
    #[inline]
    fn argument(&self, obj: &Bound<'_, PyAny>) -> Result<T>
    where
        T: Argument,
    {
        Argument::from_python(obj)
    }
}

/// A `&Tensor` (or `Tensor`) parameter: lent read-only without a detour through pyo3's traits
/// (the per-call path of the most common parameter).
#[cfg(feature = "numpy")]
impl NativeInput<Tensor> for Conv<Tensor> {
    #[inline]
    #[track_caller]
    fn to_python<'py>(&self, value: &Tensor, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        value.to_numpy(py)
    }
}

/// A `Tensor` return: straight from numpy.
#[cfg(feature = "numpy")]
impl NativeOutput<Tensor> for Conv<Tensor> {
    #[inline]
    fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<Tensor> {
        Tensor::from_numpy(obj)
    }
}

/// The Arrow types of other crates (feature `arrow`), one row each: a parameter (by value or
/// `&`) becomes the pyarrow object over the same memory, a return is read from anything
/// exporting an Arrow array or stream; in an `Option` (of the type, or of a reference to it as a
/// parameter), `None` crosses as `None`.
#[cfg(feature = "arrow")]
macro_rules! arrow_crossings {
    ($($ty:ty => $to_python:path, $from_python:path;)*) => {$(
        impl NativeInput<$ty> for Conv<$ty> {
            #[inline]
            fn to_python<'py>(&self, value: &$ty, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
                $to_python(value, py)
            }
        }

        impl NativeOutput<$ty> for Conv<$ty> {
            #[inline]
            fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<$ty> {
                $from_python(obj)
            }
        }

        impl NativeInput<Option<$ty>> for Conv<Option<$ty>> {
            #[inline]
            fn to_python<'py>(
                &self,
                value: &Option<$ty>,
                py: Python<'py>,
            ) -> Result<Bound<'py, PyAny>> {
                match value {
                    Some(value) => $to_python(value, py),
                    None => Ok(py.None().into_bound(py)),
                }
            }
        }

        impl<'a> NativeInput<Option<&'a $ty>> for Conv<Option<&'a $ty>> {
            #[inline]
            fn to_python<'py>(
                &self,
                value: &Option<&'a $ty>,
                py: Python<'py>,
            ) -> Result<Bound<'py, PyAny>> {
                match value {
                    Some(value) => $to_python(value, py),
                    None => Ok(py.None().into_bound(py)),
                }
            }
        }

        impl NativeOutput<Option<$ty>> for Conv<Option<$ty>> {
            #[inline]
            fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<Option<$ty>> {
                if obj.is_none() {
                    return Ok(None);
                }
                $from_python(obj).map(Some)
            }
        }
    )*};
}

#[cfg(feature = "arrow")]
arrow_crossings! {
    RecordBatch => crate::arrow::batch_to_python, crate::arrow::batch_from_python;
    ArrayRef => crate::arrow::array_to_python, crate::arrow::array_from_python;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// Stands for a type of another crate that python4r converts itself.
    struct Foreign(i64);

    impl NativeInput<Foreign> for Conv<Foreign> {
        fn to_python<'py>(&self, value: &Foreign, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
            Ok((value.0 * 10).into_pyobject(py)?.into_any())
        }
    }

    impl NativeOutput<Foreign> for Conv<Foreign> {
        fn extract(&self, obj: &Bound<'_, PyAny>) -> Result<Foreign> {
            Ok(Foreign(obj.extract::<i64>().map_err(Error::from)? / 10))
        }
    }

    // The borrow is the selection: generated code writes it the same way for every type.
    #[allow(clippy::needless_borrow)]
    #[test]
    fn native_conversions_come_first_and_pyo3_is_the_fallback() {
        crate::gil::with_gil(|py| {
            let native = (&Conv::<Foreign>::new()).to_python(&Foreign(4), py)?;
            assert_eq!(native.extract::<i64>()?, 40);
            let back: Foreign = (&Conv::<Foreign>::new()).extract(&native)?;
            assert_eq!(back.0, 4);
            let plain = (&Conv::<i64>::new()).to_python(&4, py)?;
            assert_eq!(plain.extract::<i64>()?, 4);
            let text = (&Conv::<str>::new()).to_python("x", py)?;
            let back: String = (&Conv::<String>::new()).extract(&text)?;
            assert_eq!(back, "x");
            Ok(())
        })
        .unwrap();
    }
}
