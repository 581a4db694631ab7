//! The walk over the syntax tree that records, scope by scope, what code binds, declares and
//! reads, and the constructs that matter to the name check and to the choice of frame.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as past, Expr, ExprContext, Identifier, Parameters, Pattern, Stmt, TypeParam, TypeParams,
};
use ruff_text_size::{Ranged, TextRange};

use crate::BindingKind;
use crate::names::{DYNAMIC_NAMES, FRAME_NAMES};
use crate::scope::{Kind, Scopes};

/// A binding of a name in the module namespace (at module level, or through `global`).
#[derive(Debug, Clone)]
pub(crate) struct ModuleBinding {
    pub name: String,
    pub range: TextRange,
    pub kind: BindingKind,
}

/// What the walk found; read by the analysis once the whole tree was visited.
pub(crate) struct Collector {
    pub scopes: Scopes,
    current: usize,
    /// Why names cannot be known at compile time, if they cannot.
    pub dynamic: Option<&'static str>,
    /// A construct module code and a function frame treat differently, if the code has one.
    pub module_only: Option<&'static str>,
    /// Errors CPython's compiler (not its parser) raises: `return` outside a function, ...
    pub errors: Vec<(String, TextRange)>,
    /// Module-level `except ... as name` handlers: the name, and the handler's range.
    pub except_names: Vec<(String, TextRange)>,
    pub module_bindings: Vec<ModuleBinding>,
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            scopes: Scopes::new(),
            current: Scopes::MODULE,
            dynamic: None,
            module_only: None,
            errors: Vec::new(),
            except_names: Vec::new(),
            module_bindings: Vec::new(),
        }
    }

    fn module_only(&mut self, why: &'static str) {
        self.module_only.get_or_insert(why);
    }

    fn at_module(&self) -> bool {
        self.current == Scopes::MODULE
    }

    /// Binds `name` in scope `scope`, or in the module if the scope declared it `global`.
    fn bind_in(&mut self, scope: usize, name: &str, range: TextRange, kind: BindingKind) {
        let scope = if self.scopes.get(scope).globals.contains(name) {
            Scopes::MODULE
        } else {
            scope
        };
        self.scopes.get_mut(scope).bound.insert(name.to_owned());
        if scope == Scopes::MODULE {
            self.module_bindings.push(ModuleBinding {
                name: name.to_owned(),
                range,
                kind,
            });
        }
    }

    fn bind(&mut self, name: &str, range: TextRange, kind: BindingKind) {
        self.bind_in(self.current, name, range, kind);
    }

    fn bind_identifier(&mut self, name: &Identifier, kind: BindingKind) {
        self.bind(name.as_str(), name.range(), kind);
    }

    fn read(&mut self, name: &str, range: TextRange) {
        if DYNAMIC_NAMES.contains(&name) {
            self.dynamic
                .get_or_insert("it calls `exec`, `eval`, `globals()`, `locals()` or `vars()`");
        }
        if FRAME_NAMES.contains(&name) {
            self.module_only("it inspects its own frame");
        }
        self.scopes
            .get_mut(self.current)
            .reads
            .push((name.to_owned(), range));
    }

    fn enter(&mut self, kind: Kind) -> usize {
        let saved = self.current;
        self.current = self.scopes.push(kind, saved);
        saved
    }

    fn leave(&mut self, saved: usize) {
        self.current = saved;
    }

    fn bind_target(&mut self, target: &Expr) {
        // Targets are expressions with a Store context; visiting them binds the names and reads
        // the subexpressions (`a[i] = ...` reads `a` and `i`).
        self.visit_expr(target);
    }

    fn bind_parameters(&mut self, parameters: &Parameters) {
        for parameter in parameters.iter_non_variadic_params() {
            self.bind_identifier(&parameter.parameter.name, BindingKind::Assignment);
        }
        if let Some(vararg) = &parameters.vararg {
            self.bind_identifier(&vararg.name, BindingKind::Assignment);
        }
        if let Some(kwarg) = &parameters.kwarg {
            self.bind_identifier(&kwarg.name, BindingKind::Assignment);
        }
    }

    /// Defaults are evaluated where the function is defined; annotations are not read at all,
    /// since postponed or lazy evaluation makes them unreliable evidence.
    fn visit_defaults(&mut self, parameters: &Parameters) {
        for parameter in parameters.iter_non_variadic_params() {
            if let Some(default) = &parameter.default {
                self.visit_expr(default);
            }
        }
    }

    fn bind_type_params(&mut self, type_params: Option<&TypeParams>) {
        for param in type_params.into_iter().flat_map(|p| p.type_params.iter()) {
            let name = match param {
                TypeParam::TypeVar(p) => &p.name,
                TypeParam::TypeVarTuple(p) => &p.name,
                TypeParam::ParamSpec(p) => &p.name,
            };
            self.bind_identifier(name, BindingKind::Assignment);
        }
    }

    fn visit_comprehension_scope(
        &mut self,
        generators: &[past::Comprehension],
        elements: &[&Expr],
    ) {
        let Some((first, rest)) = generators.split_first() else {
            return;
        };
        self.visit_expr(&first.iter);
        let saved = self.enter(Kind::Comprehension);
        self.bind_target(&first.target);
        for condition in &first.ifs {
            self.visit_expr(condition);
        }
        for generator in rest {
            self.visit_expr(&generator.iter);
            self.bind_target(&generator.target);
            for condition in &generator.ifs {
                self.visit_expr(condition);
            }
        }
        for element in elements {
            self.visit_expr(element);
        }
        self.leave(saved);
    }

    fn forbid_at_module(&mut self, what: &str, range: TextRange) {
        let (_, scope) = self.scopes.nearest_non_comprehension(self.current);
        if matches!(scope.kind, Kind::Module | Kind::Class) {
            self.errors.push((
                format!("`{what}` outside a function: module code cannot use it; remove it or move it into a `def`"),
                range,
            ));
        }
    }

    fn visit_import_from(&mut self, import: &past::StmtImportFrom) {
        let module = import.module.as_ref().map(|m| m.as_str());
        if module == Some("__future__") {
            self.module_only("it has a `from __future__` import");
        }
        if module == Some("builtins") {
            self.dynamic.get_or_insert("it imports from `builtins`");
        }
        for alias in &import.names {
            if alias.name.as_str() == "*" {
                self.dynamic.get_or_insert("it uses `from ... import *`");
                self.module_only("it uses `from ... import *`");
            } else {
                let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                self.bind(bound.as_str(), alias.range, BindingKind::Import);
            }
        }
    }
}

/// Stack the walk keeps free at each level, and the size of the segment it adds on the heap when
/// less is left: code nested thousands of levels deep (`1+1+...`, `-(-(...))`) is walked without
/// overflowing whatever stack it started on.
const RED_ZONE: usize = 128 * 1024;
const GROWTH: usize = 4 << 20;

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        stacker::maybe_grow(RED_ZONE, GROWTH, || self.stmt(stmt));
    }

    fn visit_annotation(&mut self, _expr: &'a Expr) {}

    fn visit_expr(&mut self, expr: &'a Expr) {
        stacker::maybe_grow(RED_ZONE, GROWTH, || self.expr(expr));
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        stacker::maybe_grow(RED_ZONE, GROWTH, || self.pattern(pattern));
    }
}

/// The visits proper, each on a stack with room.
impl Collector {
    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            // `x += 1` reads `x` before binding it.
            Stmt::AugAssign(assign) if assign.target.is_name_expr() => {
                if let Expr::Name(name) = &*assign.target {
                    self.read(name.id.as_str(), name.range);
                    self.visit_expr(&assign.value);
                    self.bind(name.id.as_str(), name.range, BindingKind::Augmented);
                }
            }
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                self.visit_defaults(&def.parameters);
                self.bind_identifier(&def.name, BindingKind::Definition);
                let saved = self.enter(Kind::Function);
                self.bind_type_params(def.type_params.as_deref());
                self.bind_parameters(&def.parameters);
                self.visit_body(&def.body);
                self.leave(saved);
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.bind_identifier(&class.name, BindingKind::Definition);
                let saved = self.enter(Kind::Class);
                self.bind_type_params(class.type_params.as_deref());
                self.visit_body(&class.body);
                self.leave(saved);
            }
            Stmt::Return(ret) => {
                self.forbid_at_module("return", ret.range);
                if let Some(value) = &ret.value {
                    self.visit_expr(value);
                }
            }
            Stmt::Global(global) => {
                if self.at_module() {
                    self.module_only("it uses `global`");
                } else {
                    self.module_only("a nested scope uses `global`");
                }
                for name in &global.names {
                    let name = name.as_str().to_owned();
                    self.scopes
                        .get_mut(self.current)
                        .globals
                        .insert(name.clone());
                    // Flow-insensitive: the declaring function may bind it.
                    self.scopes.get_mut(Scopes::MODULE).bound.insert(name);
                }
            }
            Stmt::Nonlocal(nonlocal) => {
                for name in &nonlocal.names {
                    self.scopes
                        .get_mut(self.current)
                        .nonlocals
                        .push((name.as_str().to_owned(), name.range));
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    if bound == "builtins" {
                        self.dynamic.get_or_insert("it imports `builtins`");
                    }
                    self.bind(bound, alias.range, BindingKind::Import);
                }
            }
            Stmt::ImportFrom(import) => self.visit_import_from(import),
            Stmt::AnnAssign(assign) => {
                if self.at_module() {
                    self.module_only("module-level annotations are evaluated and stored");
                    self.scopes
                        .get_mut(Scopes::MODULE)
                        .bound
                        .insert("__annotations__".to_owned());
                }
                if let Some(value) = &assign.value {
                    self.visit_expr(value);
                    self.bind_target(&assign.target);
                } else if !assign.target.is_name_expr() {
                    // `a.b: int` evaluates `a`, binds nothing.
                    self.bind_target(&assign.target);
                }
            }
            Stmt::TypeAlias(alias) => {
                if let Expr::Name(name) = alias.name.as_ref() {
                    self.bind(name.id.as_str(), name.range, BindingKind::Definition);
                }
                let saved = self.enter(Kind::Function);
                self.bind_type_params(alias.type_params.as_deref());
                self.visit_expr(&alias.value);
                self.leave(saved);
            }
            Stmt::Try(block) => {
                self.visit_body(&block.body);
                for handler in &block.handlers {
                    let past::ExceptHandler::ExceptHandler(handler) = handler;
                    if let Some(type_) = &handler.type_ {
                        self.visit_expr(type_);
                    }
                    if let Some(name) = &handler.name {
                        self.bind_identifier(name, BindingKind::Assignment);
                        if self.at_module() {
                            self.except_names
                                .push((name.as_str().to_owned(), handler.range));
                        }
                    }
                    self.visit_body(&handler.body);
                }
                self.visit_body(&block.orelse);
                self.visit_body(&block.finalbody);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(name) => match name.ctx {
                ExprContext::Load => self.read(name.id.as_str(), name.range),
                ExprContext::Store => {
                    self.bind(name.id.as_str(), name.range, BindingKind::Assignment);
                }
                ExprContext::Del => {
                    if self.at_module() {
                        // Reading it afterwards raises `NameError` in module code but
                        // `UnboundLocalError` in a function.
                        self.module_only("it deletes a module-level name");
                    }
                    self.bind(name.id.as_str(), name.range, BindingKind::Deletion);
                }
                ExprContext::Invalid => {}
            },
            Expr::Named(named) => {
                self.visit_expr(&named.value);
                if let Expr::Name(name) = named.target.as_ref() {
                    // A walrus binds in the nearest scope that is not a comprehension.
                    let (scope, _) = self.scopes.nearest_non_comprehension(self.current);
                    self.bind_in(scope, name.id.as_str(), name.range, BindingKind::Assignment);
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_defaults(parameters);
                }
                let saved = self.enter(Kind::Function);
                if let Some(parameters) = &lambda.parameters {
                    self.bind_parameters(parameters);
                }
                self.visit_expr(&lambda.body);
                self.leave(saved);
            }
            Expr::ListComp(comp) => self.visit_comprehension_scope(&comp.generators, &[&comp.elt]),
            Expr::SetComp(comp) => self.visit_comprehension_scope(&comp.generators, &[&comp.elt]),
            Expr::Generator(comp) => {
                self.visit_comprehension_scope(&comp.generators, &[&comp.elt]);
            }
            Expr::DictComp(comp) => {
                let mut elements: Vec<&Expr> = comp.key.as_deref().into_iter().collect();
                elements.push(&comp.value);
                self.visit_comprehension_scope(&comp.generators, &elements);
            }
            Expr::Yield(yield_) => {
                self.forbid_at_module("yield", yield_.range);
                visitor::walk_expr(self, expr);
            }
            Expr::YieldFrom(yield_) => {
                self.forbid_at_module("yield from", yield_.range);
                visitor::walk_expr(self, expr);
            }
            Expr::Await(await_) => {
                self.forbid_at_module("await", await_.range);
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn pattern(&mut self, pattern: &Pattern) {
        let name = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = name {
            self.bind_identifier(name, BindingKind::Assignment);
        }
        visitor::walk_pattern(self, pattern);
    }
}
