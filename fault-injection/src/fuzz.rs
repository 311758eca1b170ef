//! [`arbitrary::Arbitrary`] impls, so fuzz targets can draw kill schedules
//! from raw bytes. Failpoint names come from the catalogue, so every value
//! prints in a text form that parses back.

use arbitrary::{Arbitrary, Result, Unstructured};

use crate::schedule::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule, StateSelector};
use crashproof_core::failpoint::CATALOGUE;

/// Step indexes stay below this so fuzzed schedules hit real steps.
const MAX_FUZZ_STEP: u64 = 4096;

impl<'a> Arbitrary<'a> for CrashModel {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(*u.choose(&CrashModel::ALL)?)
    }
}

impl<'a> Arbitrary<'a> for StateSelector {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(if u.arbitrary()? {
            StateSelector::Seed(u.arbitrary()?)
        } else {
            StateSelector::Index(u.int_in_range(0..=255)?)
        })
    }
}

impl<'a> Arbitrary<'a> for CrashAt {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if CATALOGUE.is_empty() || u.ratio(3, 4)? {
            return Ok(CrashAt::Step(u.int_in_range(0..=MAX_FUZZ_STEP)?));
        }
        let doc = u.choose(CATALOGUE)?;
        Ok(CrashAt::Failpoint {
            name: doc.name.to_string(),
            hit: u.int_in_range(1..=8)?,
        })
    }
}

impl<'a> Arbitrary<'a> for CrashPoint {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(CrashPoint {
            at: u.arbitrary()?,
            model: u.arbitrary()?,
            state: u.arbitrary()?,
        })
    }
}

impl<'a> Arbitrary<'a> for Fault {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Fault::SyncEio(u.int_in_range(0..=MAX_FUZZ_STEP)?))
    }
}

impl<'a> Arbitrary<'a> for KillSchedule {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut points = vec![u.arbitrary()?];
        for _ in 0..u.int_in_range(0..=3)? {
            points.push(u.arbitrary()?);
        }
        let mut faults = Vec::new();
        for _ in 0..u.int_in_range(0..=2)? {
            faults.push(u.arbitrary()?);
        }
        Ok(KillSchedule { points, faults })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbitrary_schedules_round_trip_through_text() {
        let mut checked = 0;
        for seed in 0u32..200 {
            let bytes: Vec<u8> = (0..256u32)
                .map(|i| (i.wrapping_mul(seed.wrapping_add(7)) >> 3) as u8)
                .collect();
            let mut u = Unstructured::new(&bytes);
            let s = KillSchedule::arbitrary(&mut u).unwrap();
            assert!(!s.points.is_empty());
            let back: KillSchedule = s.to_string().parse().unwrap();
            assert_eq!(back, s);
            checked += 1;
        }
        assert_eq!(checked, 200);
    }
}
