//! Test support shared by the workspace integration tests and examples (not published).
