//! Sessions' parts as the tests write them: policies' init data, UniActionPolicy rules,
//! actions, and the standard policies' views and events.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::sol;
use mandate_abi::{
    ActionConfig, ActionData, ParamCondition, ParamRule, Policy, PolicyData, TimeFrame,
};

sol! {
    /// The standard policies' views and events.
    #[derive(Debug, PartialEq, Eq)]
    interface IPolicyViews {
        function getUsed(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getValueLimit(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getUsageLimit(bytes32 id, address multiplexer, address account) external view returns (uint128);
        function getTimeFrameConfig(bytes32 id, address multiplexer, address account) external view returns (uint256);
        function getPolicyData(bytes32 id, address multiplexer, address token, address account) external view returns (uint256 spendingLimit, uint256 alreadySpent, uint256 approvedAmount);

        event PolicySet(bytes32 id, address multiplexer, address account);
        event TokenSpent(bytes32 id, address multiplexer, address token, address account, uint256 amount, uint256 remaining);
    }
}

/// The init data of a policy whose parameters the builders accept.
pub fn init(policy: Policy) -> Bytes {
    policy.init_data().expect("valid policy parameters")
}

/// A UniActionPolicy rule on the `n`-th argument (1-based).
pub fn rule(condition: ParamCondition, n: u64, reference: U256) -> ParamRule {
    ParamRule::on_argument(n, condition, reference.into()).expect("argument index from 1")
}

/// UniActionPolicy's init data.
pub fn uni_action(value_limit: U256, rules: Vec<ParamRule>) -> Bytes {
    init(Policy::UniAction(ActionConfig::new(value_limit, rules).expect("valid rules")))
}

/// TimeFramePolicy's init data.
pub fn time_frame(valid_until: u64, valid_after: u64) -> Bytes {
    init(Policy::TimeFrame(TimeFrame { valid_until, valid_after }))
}

/// A policy with its init data.
pub fn policy(policy: Address, init_data: impl Into<Bytes>) -> PolicyData {
    PolicyData { policy, initData: init_data.into() }
}

/// An action: `selector` on `target` under `policies`.
pub fn action(target: Address, selector: [u8; 4], policies: Vec<PolicyData>) -> ActionData {
    ActionData {
        actionTargetSelector: selector.into(),
        actionTarget: target,
        actionPolicies: policies,
    }
}
