//! The canonical deployment (module-sdk 0.4.0's addresses) on the devnet: upstream's runtimes
//! from ../shared/upstream placed where real chains hold them, answering as modules.

use mandate::{
    abi::{Deployments, alloy_primitives::U256, sol::ISmartSession},
    sim::{Devnet, canonical},
};

#[test]
fn upstream_runtimes_sit_at_the_canonical_addresses_and_answer() {
    let runtimes = mandate_testing::upstream::runtimes();
    let mut devnet = Devnet::new().unwrap();
    let canonical = devnet.place_canonical(&runtimes);
    assert_eq!(canonical, Deployments::MODULE_SDK_0_4);
    for (name, address) in canonical::contracts() {
        assert!(runtimes.get(name).is_some() && devnet.has_code(address), "{name}");
    }
    // SmartSession is a validator (type 1), not an executor (type 2).
    let ss = canonical.smart_session;
    let is = |devnet: &mut Devnet, typ: u64| {
        devnet.call_sol(ss, &ISmartSession::isModuleTypeCall { typeId: U256::from(typ) }).unwrap()
    };
    assert!(is(&mut devnet, 1) && !is(&mut devnet, 2));
    let account = devnet.deployments().account_factory;
    assert!(!devnet.call_sol(ss, &ISmartSession::isInitializedCall { account }).unwrap());
}
