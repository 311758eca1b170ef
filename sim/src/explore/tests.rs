//! The explorer's own tests, on the bug zoo's control and mutants.

use crashproof_fault::{KillSchedule, Model};

use super::*;

#[test]
fn scratch_print() {
    for name in workload_names() {
        let w = workload_by_name(&name).unwrap();
        let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
        for model in Model::ALL {
            let r = ex.explore_exhaustive(model).unwrap();
            println!("{name}: {}", r.models[0]);
            if let Some(v) = r.violations.first() {
                println!("  {}", v.summary());
            }
        }
    }
    let w = workload_by_name("no-dir-fsync").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let r = ex.explore_exhaustive(Model::DropUnsynced).unwrap();
    println!("{r}");
    let s: KillSchedule = "step:3@prefix#seed=1".parse().unwrap();
    let (_, o) = ex.replay(&s).unwrap();
    println!("{}", o.trace);
}
