//! Test guest: carries a step manifest but exports `hello` instead of `run`.
wit_bindgen::generate!({
    inline: "package test:other; world other { export hello: func() -> string; }",
});
struct Other;
impl Guest for Other {
    fn hello() -> String {
        "hello".into()
    }
}
export!(Other);
scope_step::__manifest_section!(scope_step::Manifest {
    name: "wrong-world",
    ..scope_step::Manifest::EMPTY
});
