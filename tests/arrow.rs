//! Arrow tables through `#[py_exec]` (feature `arrow`): record batches built in Rust go through
//! pandas and polars and come back with the expected values and schema; numeric columns make
//! a round trip through pyarrow at the same address; nulls, strings, dictionaries and
//! timestamps survive; Python keeps Rust buffers alive; what is not a table is a clear error.
//!
//! Run with `cargo test --features arrow --test arrow`. Each test needs pyarrow (and pandas or
//! polars): when one is not importable it prints why it did not run and passes.

mod common;

use std::sync::Arc;

use common::skip;
use python4r::arrow::Table;
use python4r::arrow_array::cast::AsArray;
use python4r::arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use python4r::arrow_array::{
    Array, ArrayRef, DictionaryArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, types::Int32Type,
};
use python4r::arrow_schema::{DataType, TimeUnit};
use python4r::py_exec;

/// Whether every module of `modules` imports; if not, prints which and why, and the test
/// passes without running.
fn have(modules: &[&str]) -> bool {
    for module in modules {
        if let Err(err) = python4r::exec(&format!("import {module}")) {
            skip(&format!(
                "`{module}` is not importable by the embedded Python ({err}); the workspace \
                 declares it in [package.metadata.python4r] for Python 3.10+"
            ));
            return false;
        }
    }
    true
}

/// Rain by city and day: a string, a float and an integer column.
fn rain() -> RecordBatch {
    let city: ArrayRef = Arc::new(StringArray::from(vec![
        "Oslo", "Rome", "Oslo", "Lima", "Rome", "Oslo",
    ]));
    let mm: ArrayRef = Arc::new(Float64Array::from(vec![3.0, 1.0, 4.0, 0.5, 2.0, 1.0]));
    let day: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 2, 2, 3, 3]));
    RecordBatch::try_from_iter([("city", city), ("mm", mm), ("day", day)]).unwrap()
}

fn field_types(batch: &RecordBatch) -> Vec<(String, DataType)> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect()
}

fn strings(array: &ArrayRef) -> Vec<String> {
    let array = arrow_cast_to_strings(array);
    array
        .iter()
        .map(|s| s.unwrap_or("<null>").to_owned())
        .collect()
}

/// Utf8, LargeUtf8 and Utf8View as one string iterator's source.
fn arrow_cast_to_strings(array: &ArrayRef) -> StringArray {
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().clone(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => panic!("not a string column: {other}"),
    }
}

#[py_exec(code = r#"
df = t.to_pandas()
result = df.groupby("city", as_index=False).agg(rain=("mm", "sum"), days=("day", "count"))
"#)]
fn pandas_rain_by_city(t: &RecordBatch) -> python4r::Result<RecordBatch>;

#[test]
fn a_batch_goes_through_a_pandas_groupby_and_back() {
    if !have(&["pyarrow", "pandas"]) {
        return;
    }
    let out = pandas_rain_by_city(&rain()).unwrap();
    assert_eq!(
        field_types(&out),
        [
            ("city".to_owned(), DataType::LargeUtf8),
            ("rain".to_owned(), DataType::Float64),
            ("days".to_owned(), DataType::Int64),
        ]
    );
    assert!(
        out.schema().metadata().contains_key("pandas"),
        "pandas metadata stays"
    );
    assert_eq!(strings(out.column(0)), ["Lima", "Oslo", "Rome"]);
    assert_eq!(
        out.column(1).as_primitive::<Float64Type>().values(),
        &[0.5, 8.0, 3.0]
    );
    assert_eq!(
        out.column(2).as_primitive::<Int64Type>().values(),
        &[1, 3, 2]
    );
}

#[py_exec(code = "result = t.to_pandas().groupby('city').agg(rain=('mm', 'sum'))")]
fn pandas_indexed_by_city(t: &RecordBatch) -> python4r::Result<RecordBatch>;

#[test]
fn a_pandas_index_that_is_not_a_range_comes_back_as_a_column() {
    if !have(&["pyarrow", "pandas"]) {
        return;
    }
    let out = pandas_indexed_by_city(&rain()).unwrap();
    let names: Vec<_> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["rain", "city"]);
    assert_eq!(strings(out.column(1)), ["Lima", "Oslo", "Rome"]);
}

#[py_exec(code = r#"
import polars as pl
result = (
    pl.from_arrow(t)
    .group_by("city")
    .agg(pl.col("mm").sum().alias("rain"), pl.col("day").max().alias("last"))
    .sort("city")
)
"#)]
fn polars_rain_by_city(t: &RecordBatch) -> python4r::Result<RecordBatch>;

#[test]
fn a_batch_goes_through_polars_and_back() {
    if !have(&["pyarrow", "polars"]) {
        return;
    }
    let out = polars_rain_by_city(&rain()).unwrap();
    assert_eq!(
        field_types(&out),
        [
            ("city".to_owned(), DataType::Utf8View),
            ("rain".to_owned(), DataType::Float64),
            ("last".to_owned(), DataType::Int64),
        ]
    );
    assert_eq!(strings(out.column(0)), ["Lima", "Oslo", "Rome"]);
    assert_eq!(
        out.column(1).as_primitive::<Float64Type>().values(),
        &[0.5, 8.0, 3.0]
    );
    assert_eq!(
        out.column(2).as_primitive::<Int64Type>().values(),
        &[2, 3, 3]
    );
}

#[py_exec(
    code = "result = t\naddress = t.column(1).buffers()[1].address",
    output = ["result", "address"]
)]
fn batch_identity(t: &RecordBatch) -> python4r::Result<(RecordBatch, usize)>;

#[py_exec(code = "result = a\naddress = a.buffers()[1].address", output = ["result", "address"])]
fn array_identity(a: &ArrayRef) -> python4r::Result<(ArrayRef, usize)>;

#[py_exec(code = "result = t\nbatches = len(t.to_batches())", output = ["result", "batches"])]
fn table_identity(t: Table) -> python4r::Result<(Table, usize)>;

/// The address of a primitive column's values.
fn values_address(array: &ArrayRef) -> usize {
    array.to_data().buffers()[0].as_ptr() as usize
}

#[test]
fn numeric_columns_make_a_round_trip_through_pyarrow_at_the_same_address() {
    if !have(&["pyarrow"]) {
        return;
    }
    let batch = rain();
    let address = values_address(batch.column(1));
    let (back, seen_by_python) = batch_identity(&batch).unwrap();
    assert_eq!(seen_by_python, address, "pyarrow reads the Rust buffer");
    assert_eq!(values_address(back.column(1)), address);
    assert_eq!(back, batch);

    let column = batch.column(2).clone();
    let (back, seen_by_python) = array_identity(&column).unwrap();
    assert_eq!(seen_by_python, values_address(&column));
    assert_eq!(values_address(&back), values_address(&column));
    assert_eq!(&back, &column);

    let table = Table::try_new(batch.schema(), vec![batch.clone(), batch.slice(2, 3)]).unwrap();
    let (back, batches) = table_identity(table.clone()).unwrap();
    assert_eq!(batches, 2);
    assert_eq!(back.batches().len(), 2);
    assert_eq!(values_address(back.batches()[0].column(1)), address);
    assert_eq!(back, table);
}

#[py_exec(code = r#"
import pyarrow as pa
# Rebuilt from Python objects: nothing of the Rust buffers is reused.
result = pa.Table.from_pylist(t.to_pylist(), schema=t.schema)
"#)]
fn rebuilt(t: &RecordBatch) -> python4r::Result<RecordBatch>;

#[test]
fn nulls_strings_dictionaries_and_timestamps_survive() {
    if !have(&["pyarrow"]) {
        return;
    }
    let n: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None, Some(3)]));
    let name: ArrayRef = Arc::new(StringArray::from(vec![Some("ä"), Some(""), None]));
    let kind: ArrayRef = Arc::new(
        vec![Some("low"), None, Some("low")]
            .into_iter()
            .collect::<DictionaryArray<Int32Type>>(),
    );
    let at: ArrayRef = Arc::new(
        TimestampMicrosecondArray::from(vec![Some(1_700_000_000_123_456), None, Some(0)])
            .with_timezone("Europe/Oslo"),
    );
    let batch =
        RecordBatch::try_from_iter([("n", n), ("name", name), ("kind", kind), ("at", at)]).unwrap();
    let back = rebuilt(&batch).unwrap();
    assert_eq!(back, batch);
    assert_eq!(back.column(0).null_count(), 1);
    assert_eq!(
        back.schema().field(2).data_type(),
        &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
    );
    assert_eq!(
        back.schema().field(3).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Oslo".into()))
    );
    let at = back.column(3).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(at.value(0), 1_700_000_000_123_456);
    assert!(at.is_null(1));
}

#[py_exec(code = r#"
import pyarrow as pa
result = pa.Table.from_batches([t, t])
"#)]
fn twice(t: &RecordBatch) -> python4r::Result<RecordBatch>;

#[test]
fn a_stream_of_several_batches_is_concatenated_into_one() {
    if !have(&["pyarrow"]) {
        return;
    }
    let batch = rain();
    let out = twice(&batch).unwrap();
    assert_eq!(out.num_rows(), 2 * batch.num_rows());
    assert_eq!(out.slice(batch.num_rows(), batch.num_rows()), batch);
}

#[py_exec(code = "result = t.schema.empty_table()")]
fn no_rows(t: &RecordBatch) -> python4r::Result<Table>;

#[test]
fn a_table_without_rows_keeps_its_schema() {
    if !have(&["pyarrow"]) {
        return;
    }
    let batch = rain();
    let empty = no_rows(&batch).unwrap();
    assert_eq!(empty.num_rows(), 0);
    assert_eq!(empty.schema().fields(), batch.schema().fields());
}

#[test]
fn a_table_crosses_through_the_dynamic_api() {
    if !have(&["pyarrow"]) {
        return;
    }
    python4r::set("rain_table", &Table::from(rain())).unwrap();
    python4r::exec("import pyarrow.compute as pc").unwrap();
    let back: Table =
        python4r::eval("rain_table.filter(pc.greater(rain_table['mm'], 1.5)).select(['city'])")
            .unwrap();
    assert_eq!(
        strings(back.to_record_batch().unwrap().column(0)),
        ["Oslo", "Oslo", "Rome"]
    );
}

#[py_exec(code = "result = None if t is None else t.slice(1)")]
fn maybe_rest(t: Option<&RecordBatch>) -> python4r::Result<Option<RecordBatch>>;

#[test]
fn none_crosses_as_none() {
    if !have(&["pyarrow"]) {
        return;
    }
    assert_eq!(maybe_rest(None).unwrap(), None);
    let batch = rain();
    assert_eq!(maybe_rest(Some(&batch)).unwrap(), Some(batch.slice(1, 5)));
}

#[py_exec(
    setup = "import pyarrow.compute as pc\nkept = []",
    code = r#"
if t is not None:
    kept.append(t)
result = sum(pc.sum(b.column("mm")).as_py() for b in kept)
"#
)]
fn keep(t: Option<RecordBatch>) -> python4r::Result<f64>;

#[test]
fn python_keeps_the_rust_buffers_alive_after_rust_drops_them() {
    if !have(&["pyarrow"]) {
        return;
    }
    assert_eq!(keep(Some(rain())).unwrap(), 11.5);
    // The batch was moved in and dropped; new allocations must not reuse its buffers.
    let noise: Vec<Vec<f64>> = (0..64).map(|i| vec![f64::from(i); 1024]).collect();
    assert_eq!(keep(None).unwrap(), 11.5);
    drop(noise);
}

#[py_exec(code = "rows = t.num_rows\nnames = t.column_names", output = ["rows", "names"])]
fn shape(t: &Table) -> python4r::Result<(usize, Vec<String>)>;

#[test]
fn a_table_without_batches_reaches_python_with_its_schema() {
    if !have(&["pyarrow"]) {
        return;
    }
    let empty = Table::try_new(rain().schema(), vec![]).unwrap();
    assert_eq!(
        shape(&empty).unwrap(),
        (0, vec!["city".into(), "mm".into(), "day".into()])
    );
}

#[py_exec(code = "result = [1, 2, 3]")]
fn a_list() -> python4r::Result<RecordBatch>;

#[py_exec(code = "import pyarrow as pa\nresult = pa.array([1, 2, 3])")]
fn an_array() -> python4r::Result<RecordBatch>;

#[py_exec(code = "result = {'a': [1]}")]
fn a_dict() -> python4r::Result<ArrayRef>;

#[test]
fn what_is_not_a_table_is_a_clear_error() {
    let err = a_list().unwrap_err().to_string();
    assert!(
        err.starts_with(
            "cannot convert Python variable `result` of type `list` to Rust `RecordBatch`: it has \
             neither `__arrow_c_array__` nor `__arrow_c_stream__`"
        ),
        "{err}"
    );
    assert!(err.contains("pyarrow Table"), "{err}");
    assert!(err.contains("polars or pandas DataFrame"), "{err}");

    let err = a_dict().unwrap_err().to_string();
    assert!(err.contains("of type `dict` to Rust `ArrayRef`"), "{err}");

    if have(&["pyarrow"]) {
        let err = an_array().unwrap_err().to_string();
        assert!(
            err.contains("it exports an Arrow array of type Int64, not a table"),
            "{err}"
        );
    }
}
