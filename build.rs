//! Tells the compiler whether a trained decoder (and its training sentences) is bundled in
//! assets/model/.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(bundled_decoder)");
    println!("cargo::rustc-check-cfg=cfg(bundled_sentences)");
    println!("cargo::rerun-if-changed=assets/model");
    if std::path::Path::new("assets/model/decoder.safetensors").exists() {
        println!("cargo::rustc-cfg=bundled_decoder");
    }
    if std::path::Path::new("assets/model/sentences.bin").exists() {
        println!("cargo::rustc-cfg=bundled_sentences");
    }
}
