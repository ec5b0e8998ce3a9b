fn main() {
    let t = std::time::Instant::now();
    let checker = rxlint::arrow::Checker::shipped("us", false).unwrap_or_else(|e| panic!("{e}"));
    println!("Checker::shipped (load + compile rules): {:?}", t.elapsed());
    let set = rxlint::rules::RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let n = 2000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let e = rxlint::eval::Engine::new(&set, "us", false).unwrap_or_else(|e| panic!("{e}"));
        std::hint::black_box(&e);
    }
    println!("Engine::new: {:?} each", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..20 {
        let c = rxlint::arrow::Checker::from_sources(checker.sources().to_vec(), "us", false)
            .unwrap_or_else(|e| panic!("{e}"));
        std::hint::black_box(&c);
    }
    println!("Checker::from_sources: {:?} each", t.elapsed() / 20);
}
