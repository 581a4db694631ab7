pub fn configure() {}
