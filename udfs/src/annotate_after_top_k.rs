//! The optimizer rule that annotates only the rows a top-k query keeps.
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{Expr, LogicalPlan, Projection, Sort, SortExpr};
use datafusion::optimizer::push_down_filter::replace_cols_by_name;
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

use crate::SruNerUdf;

/// Moves a projection that calls `sru_ner` above the sort-with-limit (top-k) that consumes it, so that
/// `SELECT pmid, sru_ner(abstract) FROM pubmed ORDER BY pmid LIMIT 20` annotates 20 rows instead of the
/// whole table:
///
/// ```text
/// Sort: pmid, fetch=20                        Projection: pmid, sru_ner(abstract)
///   Projection: pmid, sru_ner(abstract)  =>     Sort: pmid, fetch=20
///     TableScan: pubmed                           TableScan: pubmed
/// ```
///
/// The sort keys are rewritten in terms of the projection's input; when a key needs `sru_ner`'s result
/// (`ORDER BY cardinality(sru_ner(abstract))`), every row must be annotated and the plan is left as it
/// is. DataFusion already evaluates the projection after a plain `LIMIT` and after filters that do not
/// use its result; this rule covers the top-k case it does not. [`register_sru_ner`](crate::register_sru_ner)
/// adds it to the session.
#[derive(Debug, Default)]
pub struct AnnotateAfterTopK;

impl OptimizerRule for AnnotateAfterTopK {
    fn name(&self) -> &str {
        "sru_ner_annotate_after_top_k"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Sort(Sort { expr: keys, input, fetch: Some(fetch) }) = plan else {
            return Ok(Transformed::no(plan));
        };
        let unchanged = |keys, input| Ok(Transformed::no(LogicalPlan::Sort(Sort { expr: keys, input, fetch: Some(fetch) })));
        let LogicalPlan::Projection(projection) = input.as_ref() else {
            return unchanged(keys, input);
        };
        if !projection.expr.iter().any(calls_sru_ner) {
            return unchanged(keys, input);
        }
        // Each output column of the projection, by name, is the expression that computes it.
        let definitions: HashMap<String, Expr> = projection
            .schema
            .iter()
            .zip(&projection.expr)
            .map(|((qualifier, field), expr)| (Column::from((qualifier, field)).flat_name(), expr.clone().unalias()))
            .collect();
        let mut keys_below = Vec::with_capacity(keys.len());
        for key in &keys {
            let expr = replace_cols_by_name(key.expr.clone(), &definitions)?;
            if calls_sru_ner(&expr) {
                return unchanged(keys, input);
            }
            keys_below.push(SortExpr { expr, ..key.clone() });
        }
        let sorted = LogicalPlan::Sort(Sort { expr: keys_below, input: Arc::clone(&projection.input), fetch: Some(fetch) });
        let moved = Projection::try_new_with_schema(projection.expr.clone(), Arc::new(sorted), Arc::clone(&projection.schema))?;
        Ok(Transformed::yes(LogicalPlan::Projection(moved)))
    }
}

/// Whether `expr` calls `sru_ner` anywhere (recognised by its implementation, not its name).
fn calls_sru_ner(expr: &Expr) -> bool {
    expr.exists(|e| Ok(matches!(e, Expr::ScalarFunction(call) if call.func.inner().as_ref().downcast_ref::<SruNerUdf>().is_some())))
        .unwrap_or(false)
}
