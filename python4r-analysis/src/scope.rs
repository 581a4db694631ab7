//! Python's scopes as CPython's symbol table sees them, and how a read resolves through them.
//!
//! Function scopes see enclosing function scopes, class scopes are skipped by nested scopes,
//! comprehensions are scopes of their own. Every question about enclosing scopes walks them with
//! one iterator, [`Scopes::outward`].

use std::collections::HashSet;

use ruff_text_size::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Module,
    Function,
    Class,
    Comprehension,
}

/// What one scope binds, declares and reads.
#[derive(Debug)]
pub(crate) struct Scope {
    pub kind: Kind,
    pub parent: Option<usize>,
    pub bound: HashSet<String>,
    pub globals: HashSet<String>,
    pub nonlocals: Vec<(String, TextRange)>,
    pub reads: Vec<(String, TextRange)>,
}

impl Scope {
    fn new(kind: Kind, parent: Option<usize>) -> Self {
        Scope {
            kind,
            parent,
            bound: HashSet::new(),
            globals: HashSet::new(),
            nonlocals: Vec::new(),
            reads: Vec::new(),
        }
    }

    /// Whether the scope has its own binding of `name` (a binding or a `nonlocal` declaration).
    fn binds(&self, name: &str) -> bool {
        self.bound.contains(name) || self.nonlocals.iter().any(|(n, _)| n == name)
    }
}

/// The scopes of one piece of code; scope [`Scopes::MODULE`] is the module, the others point to
/// the scope they are nested in.
#[derive(Debug)]
pub(crate) struct Scopes {
    scopes: Vec<Scope>,
}

impl Scopes {
    pub const MODULE: usize = 0;

    pub fn new() -> Self {
        Scopes {
            scopes: vec![Scope::new(Kind::Module, None)],
        }
    }

    /// Adds a scope nested in `parent` and returns its index.
    pub fn push(&mut self, kind: Kind, parent: usize) -> usize {
        self.scopes.push(Scope::new(kind, Some(parent)));
        self.scopes.len() - 1
    }

    pub fn get(&self, index: usize) -> &Scope {
        &self.scopes[index]
    }

    pub fn get_mut(&mut self, index: usize) -> &mut Scope {
        &mut self.scopes[index]
    }

    pub fn module(&self) -> &Scope {
        &self.scopes[Self::MODULE]
    }

    /// Every scope with its index, the module first.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Scope)> {
        self.scopes.iter().enumerate()
    }

    /// Scope `from`, then each scope enclosing it, out to the module.
    pub fn outward(&self, from: usize) -> Outward<'_> {
        Outward {
            scopes: &self.scopes,
            next: Some(from),
        }
    }

    /// The nearest scope from `from` outward that is not a comprehension: where a walrus binds,
    /// and whose kind decides whether `return`, `yield` and `await` are allowed.
    pub fn nearest_non_comprehension(&self, from: usize) -> (usize, &Scope) {
        self.outward(from)
            .find(|(_, scope)| scope.kind != Kind::Comprehension)
            .unwrap_or((Self::MODULE, self.module()))
    }

    /// Whether `name`, read in scope `at`, resolves in a function (or class) scope rather than
    /// the module namespace.
    pub fn resolves_locally(&self, name: &str, at: usize) -> bool {
        let mut outward = self.outward(at);
        let Some((_, scope)) = outward.next() else {
            return false;
        };
        if scope.globals.contains(name) {
            return false;
        }
        if scope.kind != Kind::Module && scope.binds(name) {
            return true;
        }
        for (_, enclosing) in outward {
            match enclosing.kind {
                Kind::Module => return false,
                // Nested scopes do not see class bodies.
                Kind::Class => {}
                Kind::Function | Kind::Comprehension => {
                    if enclosing.globals.contains(name) {
                        return false;
                    }
                    if enclosing.binds(name) {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether a `nonlocal name` declared in scope `at` finds a binding in an enclosing function.
    pub fn nonlocal_has_binding(&self, name: &str, at: usize) -> bool {
        self.outward(at)
            .skip(1)
            .take_while(|(_, scope)| scope.kind != Kind::Module)
            .filter(|(_, scope)| scope.kind != Kind::Class)
            .any(|(_, scope)| scope.binds(name))
    }

    /// Every read, in any scope, that resolves to the module namespace, with its place.
    pub fn module_reads(&self) -> impl Iterator<Item = (&str, TextRange)> + '_ {
        self.iter().flat_map(move |(index, scope)| {
            scope
                .reads
                .iter()
                .filter(move |(name, _)| {
                    let class_local = scope.kind == Kind::Class && scope.bound.contains(name);
                    !class_local && !self.resolves_locally(name, index)
                })
                .map(|(name, range)| (name.as_str(), *range))
        })
    }
}

/// See [`Scopes::outward`].
pub(crate) struct Outward<'a> {
    scopes: &'a [Scope],
    next: Option<usize>,
}

impl<'a> Iterator for Outward<'a> {
    type Item = (usize, &'a Scope);

    fn next(&mut self) -> Option<Self::Item> {
        let index = self.next?;
        let scope = &self.scopes[index];
        self.next = scope.parent;
        Some((index, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outward_walks_to_the_module() {
        let mut scopes = Scopes::new();
        let class = scopes.push(Kind::Class, Scopes::MODULE);
        let function = scopes.push(Kind::Function, class);
        let comprehension = scopes.push(Kind::Comprehension, function);
        let path: Vec<usize> = scopes.outward(comprehension).map(|(i, _)| i).collect();
        assert_eq!(path, [comprehension, function, class, Scopes::MODULE]);
        assert_eq!(scopes.nearest_non_comprehension(comprehension).0, function);
    }

    #[test]
    fn class_bodies_are_skipped_by_nested_scopes() {
        let mut scopes = Scopes::new();
        let class = scopes.push(Kind::Class, Scopes::MODULE);
        scopes.get_mut(class).bound.insert("k".to_owned());
        let method = scopes.push(Kind::Function, class);
        assert!(scopes.resolves_locally("k", class));
        assert!(!scopes.resolves_locally("k", method));
        assert!(!scopes.nonlocal_has_binding("k", method));
    }

    #[test]
    fn global_declarations_reach_the_module() {
        let mut scopes = Scopes::new();
        let outer = scopes.push(Kind::Function, Scopes::MODULE);
        scopes.get_mut(outer).bound.insert("x".to_owned());
        let inner = scopes.push(Kind::Function, outer);
        assert!(scopes.resolves_locally("x", inner));
        assert!(scopes.nonlocal_has_binding("x", inner));
        scopes.get_mut(inner).globals.insert("x".to_owned());
        assert!(!scopes.resolves_locally("x", inner));
    }
}
