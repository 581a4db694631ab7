//! A table built in Rust as an Arrow `RecordBatch` goes to pandas and to polars without being
//! taken apart into columns, and the summaries they compute come back as Arrow data.
//!
//! `cargo run --features arrow --example dataframe` (pyarrow, pandas and polars come from the
//! workspace's `[package.metadata.python4r]`, on Python 3.10+).

use std::sync::Arc;

use python4r::arrow::Table;
use python4r::arrow_array::cast::AsArray;
use python4r::arrow_array::types::Float64Type;
use python4r::arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use python4r::py_exec;

/// pandas: the revenue of each region, largest first. `as_index=False` keeps the index a plain
/// range, so the region comes back as an ordinary column and nothing else is added.
#[py_exec(code = r#"
df = sales.to_pandas()
df["revenue"] = df["units"] * df["price"]
result = (
    df.groupby("region", as_index=False)
    .agg(revenue=("revenue", "sum"), orders=("units", "size"))
    .sort_values("revenue", ascending=False, ignore_index=True)
)
"#)]
fn revenue_by_region(sales: &RecordBatch) -> python4r::Result<RecordBatch>;

/// polars: the same table, the best-selling product of each region (polars strings come back
/// as `Utf8View`).
#[py_exec(code = r#"
import polars as pl
result = (
    pl.from_arrow(sales)
    .sort("units", descending=True)
    .group_by("region", maintain_order=True)
    .first()
    .select("region", "product", "units")
    .sort("region")
)
"#)]
fn best_seller(sales: &RecordBatch) -> python4r::Result<Table>;

fn sales() -> RecordBatch {
    let region: ArrayRef = Arc::new(StringArray::from(vec![
        "north", "south", "north", "east", "south", "east", "north",
    ]));
    let product: ArrayRef = Arc::new(StringArray::from(vec![
        "tea", "tea", "coffee", "cocoa", "coffee", "tea", "cocoa",
    ]));
    let units: ArrayRef = Arc::new(Int64Array::from(vec![12, 7, 30, 4, 9, 15, 2]));
    let price: ArrayRef = Arc::new(Float64Array::from(vec![
        3.5, 3.5, 4.25, 5.0, 4.25, 3.5, 5.0,
    ]));
    RecordBatch::try_from_iter([
        ("region", region),
        ("product", product),
        ("units", units),
        ("price", price),
    ])
    .expect("columns of one length")
}

fn main() -> python4r::Result<()> {
    let sales = sales();
    let names: Vec<_> = sales
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    println!("{} sales rows: {}", sales.num_rows(), names.join(", "));

    let revenue = revenue_by_region(&sales)?;
    let regions = revenue.column(0).as_string::<i64>();
    let totals = revenue.column(1).as_primitive::<Float64Type>();
    println!("\nrevenue by region (pandas):");
    for (region, total) in regions.iter().zip(totals.values()) {
        println!("  {:<6} {total:8.2}", region.unwrap_or("?"));
    }

    let best = best_seller(&sales)?.to_record_batch()?;
    println!(
        "\nbest seller by region (polars, {:?} strings):",
        best.column(0).data_type()
    );
    let regions = best.column(0).as_string_view();
    let products = best.column(1).as_string_view();
    for (region, product) in regions.iter().zip(products.iter()) {
        println!("  {:<6} {}", region.unwrap_or("?"), product.unwrap_or("?"));
    }
    Ok(())
}
