//! Name-server commands: config, KV config, write permissions.

use crate::args::{opt, req, Opt, Opts, Res};
use crate::table::{Align, Out, Table};
use rmq::admin::Admin;
use std::fmt::Write as _;

pub fn get_namesrv_config(a: &Admin, _o: &Opts) -> Res<Out> {
    let dumps = a.namesrv_config()?;
    let mut text = String::new();
    for d in &dumps {
        let _ = writeln!(text, "============{}============", d.addr);
        for (k, v) in &d.entries {
            let _ = writeln!(text, "{k:<50}=  {v}");
        }
    }
    Ok(Out::new(text, &dumps))
}

pub const KEY_VALUE: &[Opt] =
    &[req('k', "key", "KEY", "config key"), req('v', "value", "VALUE", "config value")];

pub fn update_namesrv_config(a: &Admin, o: &Opts) -> Res<Out> {
    let (k, v) = (o.need('k')?, o.need('v')?);
    let done = a.update_namesrv_config(&k, &v)?;
    let text = format!("update name server config success!{done:?}\n{k} : {v}\n");
    Ok(Out::new(text, &serde_json::json!({ "namesrvs": done, "key": k, "value": v })))
}

pub const KV_UPDATE: &[Opt] = &[
    req('s', "namespace", "NAMESPACE", "namespace"),
    req('k', "key", "KEY", "key"),
    req('v', "value", "VALUE", "value"),
];

pub fn update_kv_config(a: &Admin, o: &Opts) -> Res<Out> {
    let (ns, k, v) = (o.need('s')?, o.need('k')?, o.get('v').unwrap_or("").to_string());
    a.update_kv_config(&ns, &k, &v)?;
    Ok(Out::new(
        "create or update kv config to namespace success.\n".into(),
        &serde_json::json!({ "namespace": ns, "key": k, "value": v }),
    ))
}

pub const KV_DELETE: &[Opt] =
    &[req('s', "namespace", "NAMESPACE", "namespace"), req('k', "key", "KEY", "key")];

pub fn delete_kv_config(a: &Admin, o: &Opts) -> Res<Out> {
    let (ns, k) = (o.need('s')?, o.need('k')?);
    a.delete_kv_config(&ns, &k)?;
    Ok(Out::new(
        "delete kv config from namespace success.\n".into(),
        &serde_json::json!({ "namespace": ns, "key": k }),
    ))
}

pub const KV_GET: &[Opt] = &[
    req('s', "namespace", "NAMESPACE", "namespace"),
    opt('k', "key", "KEY", "one key (default: the whole namespace)"),
];

pub fn get_kv_config(a: &Admin, o: &Opts) -> Res<Out> {
    let ns = o.need('s')?;
    let entries = match o.get('k') {
        Some(k) => vec![a.kv_config(&ns, k.trim())?],
        None => a.kv_list(&ns)?,
    };
    let mut t =
        Table::new(&[("Namespace", Align::Left), ("Key", Align::Left), ("Value", Align::Left)]);
    for e in &entries {
        t.row(vec![e.namespace.clone(), e.key.clone(), e.value.clone()]);
    }
    Ok(Out::new(t.render(), &entries))
}

pub const BROKER_NAME: &[Opt] = &[req('b', "brokerName", "BROKER", "broker name")];

fn write_perm(a: &Admin, o: &Opts, wipe: bool) -> Res<Out> {
    let name = o.need('b')?;
    let rows = a.set_write_perm(&name, wipe)?;
    let verb = if wipe { "wipe" } else { "add" };
    let mut text = String::new();
    for r in &rows {
        match r.topics {
            Some(n) => {
                let _ = writeln!(
                    text,
                    "{verb} write perm of broker[{name}] in name server[{}] OK, {n}",
                    r.namesrv
                );
            }
            None => {
                let _ = writeln!(
                    text,
                    "{verb} write perm of broker[{name}] in name server[{}] Failed: {}",
                    r.namesrv,
                    r.error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(Out::new(text, &rows))
}

pub fn wipe_write_perm(a: &Admin, o: &Opts) -> Res<Out> {
    write_perm(a, o, true)
}

pub fn add_write_perm(a: &Admin, o: &Opts) -> Res<Out> {
    write_perm(a, o, false)
}
