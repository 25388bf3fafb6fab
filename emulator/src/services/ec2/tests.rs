use super::decode::glob;

#[test]
fn filter_values_are_globs() {
    assert!(glob("i-*", "i-0123"));
    assert!(glob("run?ing", "running"));
    assert!(!glob("stopped", "stopping"));
    assert!(glob("*", ""));
}
