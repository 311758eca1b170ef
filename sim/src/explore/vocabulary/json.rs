//! How reports are written as data (serde): the fault crate's values in their
//! text forms, so a report written on one machine (a CI shard) is read back on
//! another and merged ([`crate::explore::Report::merge_shards`]).
//!
//! The simulator derives `Serialize`/`Deserialize` on
//! [`crate::explore::Report`] and its parts and depends on `serde` only; the
//! format (JSON) is the caller's choice (the CLI uses `serde_json`).

/// A [`crashproof_fault::KillSchedule`] as its text form
/// (`step:7@drop-unsynced#idx=0`), which parses back.
pub(crate) mod schedule_text {
    use crashproof_fault::KillSchedule;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(s: &KillSchedule, out: S) -> Result<S::Ok, S::Error> {
        out.collect_str(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KillSchedule, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// A [`crashproof_fault::CrashModel`] as its name (`drop-unsynced`).
pub(crate) mod model_name {
    use crashproof_fault::CrashModel;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(m: &CrashModel, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(m.name())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CrashModel, D::Error> {
        parse(&String::deserialize(d)?)
    }

    /// The model named `name`, or the error a report with a wrong name
    /// reads back with.
    pub(super) fn parse<E: Error>(name: &str) -> Result<CrashModel, E> {
        CrashModel::from_name(name)
            .ok_or_else(|| E::custom(format!("unknown crash model `{name}`")))
    }
}

/// A list of [`crashproof_fault::CrashModel`]s as their names.
pub(crate) mod model_names {
    use crashproof_fault::CrashModel;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(ms: &[CrashModel], out: S) -> Result<S::Ok, S::Error> {
        out.collect_seq(ms.iter().map(|m| m.name()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<CrashModel>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|name| super::model_name::parse(name))
            .collect()
    }
}
