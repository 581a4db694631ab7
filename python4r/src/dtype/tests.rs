//! Unit tests of the dtype table: names, sizes, casts and element reads.

use super::*;
use half::{bf16, f16};

#[test]
fn names_round_trip() {
    for d in DType::ALL {
        assert_eq!(DType::from_numpy_name(d.numpy_name()), Some(d));
        match d.dlpack() {
            Some((code, bits)) => assert_eq!(DType::from_dlpack(code, bits), Some(d)),
            None => assert!(d.time_unit().is_some(), "only dates lack a DLPack type"),
        }
    }
    assert_eq!(DType::ALL.len(), 15 + 2 * TimeUnit::ALL.len());
    assert!(DType::names().ends_with(
        "complex128, datetime64[Y|M|W|D|h|m|s|ms|us|ns], timedelta64[Y|M|W|D|h|m|s|ms|us|ns]"
    ));
    #[cfg(feature = "numpy")]
    {
        assert_eq!(DType::from_numpy_kind(b'u', 2), Some(DType::UInt16));
        assert_eq!(DType::from_numpy_kind(b'f', 16), None);
    }
}

#[test]
fn casts_follow_numpy() {
    assert_eq!(u8::from_scalar(Scalar::Int(300)), 44);
    assert_eq!(i32::from_scalar(Scalar::Float(-2.7)), -2);
    assert!(bool::from_scalar(Scalar::Float(0.5)));
    assert_eq!(f32::from_scalar(Scalar::Bool(true)), 1.0);
    assert_eq!(
        f16::from_scalar(Scalar::Float(0.1)),
        f16::from_f64(0.1),
        "no rounding through f32"
    );
    assert_eq!(bf16::from_scalar(Scalar::Int(3)), bf16::from_f64(3.0));
    // Complex to real keeps the real part; to bool, either part counts.
    assert_eq!(f32::from_scalar(Scalar::Complex(1.5, 2.0)), 1.5);
    assert!(bool::from_scalar(Scalar::Complex(0.0, 2.0)));
    let z = num_complex::Complex32::from_scalar(Scalar::Int(3));
    assert_eq!((z.re, z.im), (3.0, 0.0));
}

#[test]
fn time_casts_follow_numpy() {
    use crate::datetime::{DateTime64, TimeDelta64, units::*};
    let ns = Scalar::Time(-500_000_000, TimeUnit::Nanosecond);
    assert_eq!(DateTime64::<Seconds>::from_scalar(ns).count(), -1);
    assert_eq!(TimeDelta64::<Seconds>::from_scalar(ns).count(), -1);
    let nat = Scalar::Time(i64::MIN, TimeUnit::Day);
    assert!(DateTime64::<Seconds>::from_scalar(nat).is_nat());
    assert_eq!(i64::from_scalar(nat), i64::MIN);
    assert!(bool::from_scalar(nat));
    assert_eq!(f64::from_scalar(Scalar::Time(3, TimeUnit::Day)), 3.0);
    assert!(TimeDelta64::<Seconds>::from_scalar(Scalar::Float(f64::NAN)).is_nat());
    assert_eq!(
        TimeDelta64::<Seconds>::from_scalar(Scalar::Float(-1.5)).count(),
        -1
    );
}

#[test]
fn bool_reads_any_nonzero_byte_as_true() {
    let b = [2u8];
    // SAFETY: one readable byte.
    assert!(unsafe { <bool as Element>::read(b.as_ptr()) });
    assert!(!bool::valid_bytes(&b));
}
