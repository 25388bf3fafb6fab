//! Tests of fault profiles: parsing, the standard profile, and which requests are faulted.

use std::time::Duration;

use super::*;

#[test]
fn a_spec_parses_every_fault() {
    let profile: FaultProfile =
        "throttle=1/5,error=1/7,latency=20ms,iam-propagation=10s,grant-propagation=5s,role-propagation=2m".parse().unwrap();
    assert_eq!(profile.throttle, Some(Ratio { n: 1, of: 5 }));
    assert_eq!(profile.error, Some(Ratio { n: 1, of: 7 }));
    assert_eq!(profile.latency, Duration::from_millis(20));
    assert_eq!(profile.iam_propagation, Duration::from_secs(10));
    assert_eq!(profile.grant_propagation, Duration::from_secs(5));
    assert_eq!(profile.role_propagation, Duration::from_secs(120));
    assert_eq!(profile.to_string().parse::<FaultProfile>().unwrap(), profile, "{profile}");
}

#[test]
fn standard_is_named_documented_and_overridable() {
    let standard = FaultProfile::standard();
    assert_eq!("standard".parse::<FaultProfile>().unwrap(), standard);
    assert!(standard.throttle.is_some() && standard.error.is_some());
    assert!(!standard.iam_propagation.is_zero() && !standard.role_propagation.is_zero() && !standard.grant_propagation.is_zero());
    let quiet: FaultProfile = "standard,latency=0ms".parse().unwrap();
    assert_eq!(quiet.latency, Duration::ZERO);
    assert_eq!(quiet.throttle, standard.throttle);
    assert!("none".parse::<FaultProfile>().unwrap().is_none());
    assert!("".parse::<FaultProfile>().unwrap().is_none());
}

#[test]
fn bad_specs_say_what_is_wrong() {
    let err = |s: &str| s.parse::<FaultProfile>().unwrap_err().to_string();
    assert!(err("throttle=5").contains("not a ratio"), "{}", err("throttle=5"));
    assert!(err("throttle=2/1").contains("not a ratio"));
    assert!(err("error=1/0").contains("not a ratio"));
    assert!(err("latency=20").contains("not a duration"));
    assert!(err("latency=fast").contains("not a duration"));
    assert!(err("jitter=1/2").contains("unknown fault \"jitter\""));
    assert!(err("throttle").contains("not key=value"));
}

#[test]
fn ratios_fault_n_in_every_m_evenly_and_deterministically() {
    let every_fifth = Ratio { n: 1, of: 5 };
    let hits: Vec<u64> = (1..=20).filter(|&c| every_fifth.hits(c)).collect();
    assert_eq!(hits, [5, 10, 15, 20]);
    let two_in_seven = Ratio { n: 2, of: 7 };
    assert_eq!((1..=70).filter(|&c| two_in_seven.hits(c)).count(), 20);
    assert!(!Ratio { n: 0, of: 3 }.hits(3));
    assert!((1..=5).all(|c| Ratio { n: 1, of: 1 }.hits(c)));
}

#[test]
fn the_standard_profile_never_faults_three_requests_in_a_row() {
    let standard = FaultProfile::standard();
    let faulted: Vec<bool> = (1..=10_000).map(|c| standard.fault_for(c).is_some()).collect();
    assert!(faulted.windows(3).all(|w| !w.iter().all(|&f| f)), "three in a row");
    assert!(faulted.iter().filter(|&&f| f).count() > 1000, "faults are frequent enough to meet");
}

#[test]
fn counts_are_per_access_key() {
    let injector = FaultInjector::new("throttle=1/2".parse().unwrap());
    assert_eq!(injector.next("AKIA1"), None);
    assert_eq!(injector.next("AKIA2"), None, "another key has its own count");
    assert_eq!(injector.next("AKIA1"), Some(FaultKind::Throttle));
    assert_eq!(injector.next("AKIA2"), Some(FaultKind::Throttle));
    assert_eq!(injector.faulted(), 2);
    let none = FaultInjector::new(FaultProfile::default());
    assert!((0..10).all(|_| none.next("AKIA1").is_none()));
}

#[test]
fn throttling_is_checked_before_internal_errors() {
    let both: FaultProfile = "throttle=1/1,error=1/1".parse().unwrap();
    assert_eq!(both.fault_for(1), Some(FaultKind::Throttle));
    let error = fault_error(ServiceId::Kms, FaultKind::InternalError);
    assert_eq!((error.code.as_ref(), error.status), ("KMSInternalException", 500));
    assert_eq!(error.fault, crate::error::Fault::Receiver);
}
