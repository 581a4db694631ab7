//! Arrow tables and arrays crossing to Python without copying (feature `arrow`): arrow-rs's
//! [`RecordBatch`] and [`ArrayRef`], and [`Table`], a schema with its batches.
//!
//! # Into Python
//!
//! A `RecordBatch` parameter arrives as a `pyarrow.RecordBatch`, an `ArrayRef` as a
//! `pyarrow.Array`, a [`Table`] as a `pyarrow.Table`, all over the same memory: pyarrow imports
//! them through the Arrow C data interface, and the Rust buffers stay alive (reference counted)
//! for as long as Python holds them. Python therefore needs `pyarrow` (14 or later).
//!
//! # Back from Python
//!
//! Anything that exports the Arrow PyCapsule interface (`__arrow_c_array__` or
//! `__arrow_c_stream__`) converts: pyarrow tables, batches and arrays, polars DataFrames and
//! Series, pandas DataFrames (pandas 2.2 or later). Buffers that Python made are shared, not
//! copied, and kept alive by the Rust values. What to expect:
//!
//! - A `RecordBatch` return takes an object's `__arrow_c_array__` when it has one (one batch, no
//!   copy); an object that exports only a stream (a `pyarrow.Table`, a polars or pandas
//!   DataFrame) is read to the end and its batches are **concatenated, which copies** when there
//!   are several. Ask for a [`Table`] to keep the batches as they are.
//! - An `ArrayRef` return reads `__arrow_c_array__`, else concatenates the chunks of
//!   `__arrow_c_stream__` (a `pyarrow.ChunkedArray`, a polars `Series`), copying if there are
//!   several.
//! - pandas: the DataFrame goes through `pyarrow.Table.from_pandas`, so an index that is not a
//!   plain `RangeIndex` (after a `groupby` without `as_index=False`, say) comes back as a column
//!   (named after the index, else `__index_level_0__`); the schema keeps pandas's metadata (key
//!   `pandas`); pandas's strings come back as `LargeUtf8`. pandas copies on its own side:
//!   `to_pandas()` does, and `from_pandas` does for strings and for columns it has to convert.
//! - polars: strings come back as `Utf8View` (polars's own layout), not `Utf8`.
//! - `Option<RecordBatch>` and `Option<ArrayRef>` are `None` for Python's `None`; a `Table`
//!   converts wherever pyo3's conversions do (`Option<Table>`, `Vec<Table>`, the dynamic API).
//! - Anything else is an [`Error::Conversion`] that names the Python type returned and what
//!   would convert.
//!
//! # Dependencies
//!
//! The feature builds on `pyo3-arrow` 0.20, which fixes arrow-rs at version 59 (name its types
//! through `python4r::arrow_array` and `python4r::arrow_schema`, re-exported, or depend on arrow
//! 59 yourself) and switches on pyo3's `chrono` and `chrono-tz` features for the whole build.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use python4r::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
//! use python4r::arrow_array::cast::AsArray;
//! use python4r::arrow_array::types::Float64Type;
//! use python4r::py_exec;
//!
//! #[py_exec(code = "result = t.to_pandas().groupby('city', as_index=False).agg(rain=('mm', 'sum'))")]
//! fn rain_by_city(t: &RecordBatch) -> python4r::Result<RecordBatch>;
//!
//! let city: ArrayRef = Arc::new(StringArray::from(vec!["Oslo", "Rome", "Oslo"]));
//! let mm: ArrayRef = Arc::new(Float64Array::from(vec![3.0, 1.0, 4.0]));
//! let batch = RecordBatch::try_from_iter([("city", city), ("mm", mm)]).unwrap();
//! let rain = rain_by_city(&batch)?;
//! assert_eq!(rain.num_rows(), 2);
//! let total = rain.column_by_name("rain").unwrap().as_primitive::<Float64Type>();
//! assert_eq!(total.values(), &[7.0, 1.0]);
//! # Ok::<(), python4r::Error>(())
//! ```

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, new_empty_array};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::{Borrowed, IntoPyObject};
use pyo3_arrow::{PyArray, PyArrayReader, PyRecordBatch, PyRecordBatchReader, PyTable};

use crate::error::{Error, Result};
use crate::pyerr;

/// What would convert, said in every error about a value that is not Arrow data.
const WHAT_CONVERTS: &str = "return a pyarrow Table, RecordBatch or Array, a polars or pandas \
     DataFrame, or another object with the Arrow PyCapsule interface";

/// A table: a schema and the record batches that follow it (none, one or many).
///
/// The schema is held apart from the batches so that a table with no rows still has one. It
/// reaches Python as a `pyarrow.Table` sharing the batches' memory; anything that exports an
/// Arrow stream or array converts back (see the [module documentation](self)). `Table` also
/// crosses through the dynamic API ([`set`](crate::set), [`get`](crate::get)) and wraps a
/// `RecordBatch` for it ([`From`]).
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use python4r::arrow::Table;
/// use python4r::arrow_array::{ArrayRef, Int64Array, RecordBatch};
///
/// let n: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
/// let batch = RecordBatch::try_from_iter([("n", n)]).unwrap();
/// python4r::set("t", &Table::from(batch))?;
/// python4r::exec("import pyarrow.compute as pc")?;
/// let doubled: Table = python4r::eval("t.append_column('twice', pc.multiply(t['n'], 2))")?;
/// assert_eq!(doubled.num_rows(), 3);
/// assert_eq!(doubled.schema().field(1).name(), "twice");
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Table {
    /// A table of `batches`, each of which must have the fields of `schema` (names, types,
    /// nullability; metadata may differ).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use python4r::arrow::Table;
    /// use python4r::arrow_schema::{DataType, Field, Schema};
    ///
    /// let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
    /// let empty = Table::try_new(schema, vec![])?;
    /// assert_eq!(empty.num_rows(), 0);
    /// assert_eq!(empty.schema().field(0).name(), "x");
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn try_new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<Table> {
        if let Some((i, batch)) = batches
            .iter()
            .enumerate()
            .find(|(_, batch)| batch.schema_ref().fields() != schema.fields())
        {
            return Err(Error::Arrow(format!(
                "batch {i} of the table has the fields {:?}, not the table's {:?}",
                batch.schema_ref().fields(),
                schema.fields()
            )));
        }
        Ok(Table { schema, batches })
    }

    /// The schema, with its metadata.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The record batches, in order.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The number of rows of all batches.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The schema and the batches.
    pub fn into_parts(self) -> (SchemaRef, Vec<RecordBatch>) {
        (self.schema, self.batches)
    }

    /// The table as one record batch: the batch itself when there is one (no copy), an empty
    /// batch of the schema when there is none, else the batches concatenated (a copy).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use python4r::arrow::Table;
    /// use python4r::arrow_array::{ArrayRef, Int32Array, RecordBatch};
    ///
    /// let part = |v: Vec<i32>| {
    ///     let a: ArrayRef = Arc::new(Int32Array::from(v));
    ///     RecordBatch::try_from_iter([("a", a)]).unwrap()
    /// };
    /// let (one, two) = (part(vec![1, 2]), part(vec![3]));
    /// let table = Table::try_new(one.schema(), vec![one, two])?;
    /// assert_eq!(table.to_record_batch()?.num_rows(), 3);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        match self.batches.as_slice() {
            [] => Ok(RecordBatch::new_empty(self.schema.clone())),
            [batch] => Ok(batch.clone()),
            batches => arrow_select::concat::concat_batches(&self.schema, batches)
                .map_err(|e| arrow_error("concatenating the batches of a table", e)),
        }
    }
}

impl From<RecordBatch> for Table {
    /// A table of one batch, with that batch's schema.
    fn from(batch: RecordBatch) -> Table {
        Table {
            schema: batch.schema(),
            batches: vec![batch],
        }
    }
}

/// A `&Table` crosses as a `pyarrow.Table` over the same memory.
impl<'py> IntoPyObject<'py> for &Table {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = Error;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        table_to_python(self, py)
    }
}

/// As `&Table`.
impl<'py> IntoPyObject<'py> for Table {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = Error;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        table_to_python(&self, py)
    }
}

/// Anything exporting an Arrow stream or array becomes a table sharing its memory.
impl<'a, 'py> FromPyObject<'a, 'py> for Table {
    type Error = Error;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> Result<Table> {
        table_from_python(&obj)
    }
}

/// A `RecordBatch` as a `pyarrow.RecordBatch` over the same memory.
pub(crate) fn batch_to_python<'py>(
    batch: &RecordBatch,
    py: Python<'py>,
) -> Result<Bound<'py, PyAny>> {
    pyarrow(py)?;
    PyRecordBatch::new(batch.clone())
        .into_pyarrow(py)
        .map_err(|e| Error::from_pyerr(py, e))
}

/// An `ArrayRef` as a `pyarrow.Array` over the same memory.
pub(crate) fn array_to_python<'py>(array: &ArrayRef, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
    let pyarrow = pyarrow(py)?;
    // `PyArray::to_pyarrow` as it is, with the array moved rather than borrowed.
    let array = PyArray::from_array_ref(array.clone())
        .into_pyobject(py)
        .map_err(|e| Error::from_pyerr(py, e))?;
    pyarrow
        .getattr(intern!(py, "array"))
        .and_then(|make| make.call1((array,)))
        .map_err(|e| Error::from_pyerr(py, e))
}

/// A [`Table`] as a `pyarrow.Table` over the same memory.
fn table_to_python<'py>(table: &Table, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
    pyarrow(py)?;
    PyTable::try_new(table.batches.clone(), table.schema.clone())
        .and_then(|t| t.into_pyarrow(py))
        .map_err(|e| Error::from_pyerr(py, e))
}

/// A record batch from `obj`: its `__arrow_c_array__` (a struct array), else its stream's
/// batches concatenated.
pub(crate) fn batch_from_python(obj: &Bound<'_, PyAny>) -> Result<RecordBatch> {
    const EXPECTED: &str = "RecordBatch";
    let (array, stream) = exports(obj)?;
    if array {
        let (array, field) = extract::<PyArray>(obj, EXPECTED)?.into_inner();
        return batch_of_struct(obj, &array, &field);
    }
    if stream {
        return read_stream(obj, EXPECTED)?.to_record_batch();
    }
    Err(not_arrow(obj, EXPECTED))
}

/// A table from `obj`: its `__arrow_c_stream__`, else its `__arrow_c_array__` as one batch.
fn table_from_python(obj: &Bound<'_, PyAny>) -> Result<Table> {
    const EXPECTED: &str = "python4r::arrow::Table";
    let (array, stream) = exports(obj)?;
    if stream {
        return read_stream(obj, EXPECTED);
    }
    if array {
        let (array, field) = extract::<PyArray>(obj, EXPECTED)?.into_inner();
        return batch_of_struct(obj, &array, &field).map(Table::from);
    }
    Err(not_arrow(obj, EXPECTED))
}

/// An array from `obj`: its `__arrow_c_array__`, else its stream's chunks concatenated.
pub(crate) fn array_from_python(obj: &Bound<'_, PyAny>) -> Result<ArrayRef> {
    const EXPECTED: &str = "ArrayRef";
    let (array, stream) = exports(obj)?;
    if array {
        let (array, _field) = extract::<PyArray>(obj, EXPECTED)?.into_inner();
        return Ok(array);
    }
    if !stream {
        return Err(not_arrow(obj, EXPECTED));
    }
    let reader = extract::<PyArrayReader>(obj, EXPECTED)?
        .into_reader()
        .map_err(|e| Error::from_pyerr(obj.py(), e))?;
    let field = reader.field();
    let chunks = reader
        .collect::<std::result::Result<Vec<ArrayRef>, ArrowError>>()
        .map_err(|e| arrow_error("reading an Arrow stream from Python", e))?;
    match chunks.as_slice() {
        [] => Ok(new_empty_array(field.data_type())),
        [chunk] => Ok(chunk.clone()),
        _ => {
            let chunks: Vec<&dyn Array> = chunks.iter().map(|c| c.as_ref()).collect();
            arrow_select::concat::concat(&chunks)
                .map_err(|e| arrow_error("concatenating the chunks of an array", e))
        }
    }
}

/// Whether `obj` has `__arrow_c_array__` and whether it has `__arrow_c_stream__`.
fn exports(obj: &Bound<'_, PyAny>) -> Result<(bool, bool)> {
    let py = obj.py();
    let has = |name| obj.hasattr(name).map_err(|e| Error::from_pyerr(py, e));
    Ok((
        has(intern!(py, "__arrow_c_array__"))?,
        has(intern!(py, "__arrow_c_stream__"))?,
    ))
}

/// Every batch of `obj`'s `__arrow_c_stream__`, as they come.
fn read_stream(obj: &Bound<'_, PyAny>, expected: &str) -> Result<Table> {
    let reader = extract::<PyRecordBatchReader>(obj, expected)?
        .into_reader()
        .map_err(|e| Error::from_pyerr(obj.py(), e))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<std::result::Result<Vec<_>, ArrowError>>()
        .map_err(|e| arrow_error("reading an Arrow stream from Python", e))?;
    // The stream's reader made every batch with the stream's schema.
    Ok(Table { schema, batches })
}

/// The record batch a struct array stands for (its fields are the columns, its field's
/// metadata the schema's), as `__arrow_c_array__` exports a batch.
fn batch_of_struct(obj: &Bound<'_, PyAny>, array: &ArrayRef, field: &Field) -> Result<RecordBatch> {
    let DataType::Struct(fields) = field.data_type() else {
        return Err(Error::conversion(
            obj,
            "RecordBatch",
            format!(
                "it exports an Arrow array of type {}, not a table: return a table (a pyarrow \
                 Table or RecordBatch, a polars or pandas DataFrame), or ask for an `ArrayRef`",
                field.data_type()
            ),
        ));
    };
    let columns = array.as_struct();
    if columns.null_count() != 0 {
        return Err(Error::conversion(
            obj,
            "RecordBatch",
            "it exports a struct array with null rows, which a record batch cannot hold",
        ));
    }
    let schema = Schema::new_with_metadata(fields.clone(), field.metadata().clone());
    RecordBatch::try_new_with_options(
        Arc::new(schema),
        columns.columns().to_vec(),
        &RecordBatchOptions::new().with_row_count(Some(array.len())),
    )
    .map_err(|e| arrow_error("making a record batch of the columns Python exported", e))
}

/// `obj` extracted as one of pyo3-arrow's types; a failure (an exception raised by the
/// object's export, an Arrow type arrow-rs cannot read) is a conversion error saying why.
fn extract<T>(obj: &Bound<'_, PyAny>, expected: &str) -> Result<T>
where
    T: for<'a, 'py> FromPyObject<'a, 'py, Error = PyErr>,
{
    obj.extract::<T>()
        .map_err(|e| match Error::from_pyerr(obj.py(), e) {
            Error::Python(exception) => Error::conversion(
                obj,
                expected,
                format!(
                    "its Arrow export failed: {}: {}",
                    exception.type_name(),
                    exception.message()
                ),
            ),
            // An interruption stays one.
            other => other,
        })
}

/// The error for an object that exports no Arrow data.
#[cold]
fn not_arrow(obj: &Bound<'_, PyAny>, expected: &str) -> Error {
    Error::conversion(
        obj,
        expected,
        format!(
            "it has neither `__arrow_c_array__` nor `__arrow_c_stream__` (the Arrow PyCapsule \
             interface): {WHAT_CONVERTS}"
        ),
    )
}

/// An arrow-rs error, said with what python4r was doing.
#[cold]
fn arrow_error(doing: &str, error: ArrowError) -> Error {
    Error::Arrow(format!("{doing}: {error}"))
}

/// Imports pyarrow, which every Arrow value becomes in Python; a clear error if it is missing.
fn pyarrow(py: Python<'_>) -> Result<Bound<'_, PyModule>> {
    py.import(intern!(py, "pyarrow")).map_err(|e| {
        Error::Arrow(format!(
            "Arrow values reach Python as pyarrow objects, and pyarrow cannot be imported ({}): \
             install it in the embedded Python with `python3 -m pip install pyarrow`",
            pyerr::exception_message(py, &e)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;

    fn batch(values: Vec<i64>) -> RecordBatch {
        let a: ArrayRef = Arc::new(Int64Array::from(values));
        RecordBatch::try_from_iter([("a", a)]).unwrap()
    }

    #[test]
    fn a_table_checks_that_its_batches_follow_its_schema() {
        let other = {
            let b: ArrayRef = Arc::new(Int64Array::from(vec![1]));
            RecordBatch::try_from_iter([("b", b)]).unwrap()
        };
        let err = Table::try_new(batch(vec![1]).schema(), vec![batch(vec![2]), other]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Arrow: batch 1 of the table has the fields")
        );
    }

    #[test]
    fn one_batch_is_the_table_without_a_copy() {
        let one = batch(vec![1, 2, 3]);
        let back = Table::from(one.clone()).to_record_batch().unwrap();
        assert_eq!(
            back.column(0).to_data().buffers()[0].as_ptr(),
            one.column(0).to_data().buffers()[0].as_ptr()
        );
    }
}
