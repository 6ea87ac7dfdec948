//! Changing an enabled session's policies without re-granting it: SmartSession's owner
//! functions (`enableActionPolicies`, `disableActionId`, `setPermit4337Paymaster`, ...) as
//! [`SessionChange`]s, each with the calldata the account sends and its effect on the
//! session a record holds (so the local evaluator judges the session the chain now has).

use alloy_primitives::{Address, Bytes};
use mandate_abi::{
    ActionId, PermissionId, Session, calldata,
    sol::{ActionData, ERC7739Context, ERC7739Data, PolicyData},
};
/// One change of an enabled session, as SmartSession applies it (spec §6.4). Sets are ordered
/// as SmartSession orders them: an insert of a member already present keeps its place (its
/// policy's config re-initialized with the new data), a removal swaps the last member in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionChange {
    /// `enableActionPolicies`: policies added to actions (an action not yet enabled is added).
    EnableActionPolicies(Vec<ActionData>),
    /// `disableActionPolicies`: policies removed from one action; the action goes with its
    /// last policy.
    DisableActionPolicies {
        /// The action.
        action: ActionId,
        /// The policies removed.
        policies: Vec<Address>,
    },
    /// `disableActionId`: the action and all its policies removed.
    DisableActionId(ActionId),
    /// `enableUserOpPolicies`: user-op policies added.
    EnableUserOpPolicies(Vec<PolicyData>),
    /// `disableUserOpPolicies`: user-op policies removed.
    DisableUserOpPolicies(Vec<Address>),
    /// `enableERC1271Policies`: ERC-7739 contents and ERC-1271 policies added.
    EnableErc1271Policies(ERC7739Data),
    /// `disableERC1271Policies`: ERC-7739 content names removed (a domain goes with its last
    /// name), then ERC-1271 policies removed.
    DisableErc1271Policies {
        /// The ERC-1271 policies removed.
        policies: Vec<Address>,
        /// The contents removed.
        contents: Vec<ERC7739Context>,
    },
    /// `setPermit4337Paymaster`: whether the session's ops may be sponsored.
    SetPermitPaymaster(bool),
}

impl SessionChange {
    /// The calldata of SmartSession's function for this change of `permission_id`.
    pub fn calldata(&self, permission_id: PermissionId) -> Bytes {
        match self {
            Self::EnableActionPolicies(actions) => {
                calldata::enable_action_policies(permission_id, actions)
            }
            Self::DisableActionPolicies { action, policies } => {
                calldata::disable_action_policies(permission_id, *action, policies)
            }
            Self::DisableActionId(action) => calldata::disable_action_id(permission_id, *action),
            Self::EnableUserOpPolicies(policies) => {
                calldata::enable_user_op_policies(permission_id, policies)
            }
            Self::DisableUserOpPolicies(policies) => {
                calldata::disable_user_op_policies(permission_id, policies)
            }
            Self::EnableErc1271Policies(data) => {
                calldata::enable_erc1271_policies(permission_id, data)
            }
            Self::DisableErc1271Policies { policies, contents } => {
                calldata::disable_erc1271_policies(permission_id, policies, contents)
            }
            Self::SetPermitPaymaster(enabled) => {
                calldata::set_permit_paymaster(permission_id, *enabled)
            }
        }
    }

    /// Applies the change to `session` as SmartSession applies it on chain.
    pub fn apply(&self, session: &mut Session) {
        match self {
            Self::EnableActionPolicies(actions) => {
                for action in actions {
                    let id = action_id(action);
                    match session.actions.iter_mut().find(|a| action_id(a) == id) {
                        Some(existing) => {
                            insert_policies(&mut existing.actionPolicies, &action.actionPolicies)
                        }
                        None => {
                            let mut added =
                                ActionData { actionPolicies: Vec::new(), ..action.clone() };
                            insert_policies(&mut added.actionPolicies, &action.actionPolicies);
                            session.actions.push(added);
                        }
                    }
                }
            }
            Self::DisableActionPolicies { action, policies } => {
                if let Some(i) = session.actions.iter().position(|a| action_id(a) == *action) {
                    remove_policies(&mut session.actions[i].actionPolicies, policies);
                    if session.actions[i].actionPolicies.is_empty() {
                        session.actions.swap_remove(i);
                    }
                }
            }
            Self::DisableActionId(action) => {
                if let Some(i) = session.actions.iter().position(|a| action_id(a) == *action) {
                    session.actions.swap_remove(i);
                }
            }
            Self::EnableUserOpPolicies(policies) => {
                insert_policies(&mut session.userOpPolicies, policies)
            }
            Self::DisableUserOpPolicies(policies) => {
                remove_policies(&mut session.userOpPolicies, policies)
            }
            Self::EnableErc1271Policies(data) => {
                let erc7739 = &mut session.erc7739Policies;
                for context in &data.allowedERC7739Content {
                    let at = erc7739
                        .allowedERC7739Content
                        .iter()
                        .position(|c| c.appDomainSeparator == context.appDomainSeparator);
                    let at = at.unwrap_or_else(|| {
                        erc7739.allowedERC7739Content.push(ERC7739Context {
                            appDomainSeparator: context.appDomainSeparator,
                            contentNames: Vec::new(),
                        });
                        erc7739.allowedERC7739Content.len() - 1
                    });
                    let names = &mut erc7739.allowedERC7739Content[at].contentNames;
                    for name in &context.contentNames {
                        if !names.contains(name) {
                            names.push(name.clone());
                        }
                    }
                }
                insert_policies(&mut erc7739.erc1271Policies, &data.erc1271Policies);
            }
            Self::DisableErc1271Policies { policies, contents } => {
                let erc7739 = &mut session.erc7739Policies;
                for context in contents {
                    let Some(at) = erc7739
                        .allowedERC7739Content
                        .iter()
                        .position(|c| c.appDomainSeparator == context.appDomainSeparator)
                    else {
                        continue;
                    };
                    let names = &mut erc7739.allowedERC7739Content[at].contentNames;
                    names.retain(|n| !context.contentNames.contains(n));
                    if names.is_empty() {
                        erc7739.allowedERC7739Content.swap_remove(at);
                    }
                }
                remove_policies(&mut erc7739.erc1271Policies, policies);
            }
            Self::SetPermitPaymaster(enabled) => session.permitERC4337Paymaster = *enabled,
        }
    }
}

fn action_id(action: &ActionData) -> ActionId {
    ActionId::new(action.actionTarget, action.actionTargetSelector)
}

/// Appends each policy not yet in `set`; one already there keeps its place and takes the new
/// init data (SmartSession re-initializes its config).
fn insert_policies(set: &mut Vec<PolicyData>, added: &[PolicyData]) {
    for policy in added {
        match set.iter_mut().find(|p| p.policy == policy.policy) {
            Some(existing) => existing.initData = policy.initData.clone(),
            None => set.push(policy.clone()),
        }
    }
}

/// Removes each listed policy, the last member swapped into its place.
fn remove_policies(set: &mut Vec<PolicyData>, removed: &[Address]) {
    for policy in removed {
        if let Some(i) = set.iter().position(|p| p.policy == *policy) {
            set.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{B256, FixedBytes};

    use super::*;

    fn policy(byte: u8, data: &[u8]) -> PolicyData {
        PolicyData { policy: Address::repeat_byte(byte), initData: Bytes::copy_from_slice(data) }
    }

    fn action(byte: u8, policies: Vec<PolicyData>) -> ActionData {
        ActionData {
            actionTargetSelector: FixedBytes([byte; 4]),
            actionTarget: Address::repeat_byte(byte),
            actionPolicies: policies,
        }
    }

    fn id(a: &ActionData) -> ActionId {
        action_id(a)
    }

    #[test]
    fn inserts_keep_places_and_removals_swap_the_last_in() {
        let mut s = Session {
            userOpPolicies: vec![policy(1, b""), policy(2, b""), policy(3, b"")],
            actions: vec![action(7, vec![policy(1, b"")]), action(8, vec![policy(2, b"")])],
            ..Default::default()
        };
        // Re-enabling a member keeps its place and takes the new data; a new one is appended.
        SessionChange::EnableUserOpPolicies(vec![policy(1, b"x"), policy(4, b"")]).apply(&mut s);
        let order: Vec<_> = s.userOpPolicies.iter().map(|p| p.policy).collect();
        assert_eq!(order, [1, 2, 3, 4].map(Address::repeat_byte));
        assert_eq!(s.userOpPolicies[0].initData.as_ref(), b"x");
        // Removing the first swaps the last into its place.
        SessionChange::DisableUserOpPolicies(vec![Address::repeat_byte(1)]).apply(&mut s);
        let order: Vec<_> = s.userOpPolicies.iter().map(|p| p.policy).collect();
        assert_eq!(order, [4, 2, 3].map(Address::repeat_byte));

        // A policy added to an existing action, and a new action appended.
        let first = id(&s.actions[0]);
        SessionChange::EnableActionPolicies(vec![
            action(7, vec![policy(5, b"")]),
            action(9, vec![policy(6, b"")]),
        ])
        .apply(&mut s);
        assert_eq!(s.actions.len(), 3);
        assert_eq!(s.actions[0].actionPolicies.len(), 2);
        // The action's last policy removed: the action goes, the last one swapped in.
        SessionChange::DisableActionPolicies {
            action: first,
            policies: vec![Address::repeat_byte(1), Address::repeat_byte(5)],
        }
        .apply(&mut s);
        assert_eq!(
            s.actions.iter().map(id).collect::<Vec<_>>(),
            [9, 8].map(|b| id(&action(b, vec![])))
        );
        SessionChange::DisableActionId(id(&s.actions[1])).apply(&mut s);
        assert_eq!(s.actions.len(), 1);

        SessionChange::SetPermitPaymaster(true).apply(&mut s);
        assert!(s.permitERC4337Paymaster);
    }

    #[test]
    fn erc7739_contents_merge_and_a_domain_goes_with_its_last_name() {
        let domain = B256::repeat_byte(1);
        let context = |names: &[&str]| ERC7739Context {
            appDomainSeparator: domain,
            contentNames: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        let mut s = Session::default();
        let data = |names: &[&str]| ERC7739Data {
            allowedERC7739Content: vec![context(names)],
            erc1271Policies: vec![policy(1, b"")],
        };
        SessionChange::EnableErc1271Policies(data(&["Permit"])).apply(&mut s);
        SessionChange::EnableErc1271Policies(data(&["Permit", "Order"])).apply(&mut s);
        assert_eq!(s.erc7739Policies.allowedERC7739Content, vec![context(&["Permit", "Order"])]);
        assert_eq!(s.erc7739Policies.erc1271Policies.len(), 1);
        let disable = |names: &[&str], policies: Vec<Address>| {
            SessionChange::DisableErc1271Policies { policies, contents: vec![context(names)] }
        };
        disable(&["Permit"], vec![]).apply(&mut s);
        assert_eq!(s.erc7739Policies.allowedERC7739Content, vec![context(&["Order"])]);
        disable(&["Order"], vec![Address::repeat_byte(1)]).apply(&mut s);
        assert!(s.erc7739Policies.allowedERC7739Content.is_empty());
        assert!(s.erc7739Policies.erc1271Policies.is_empty());
    }

    #[test]
    fn each_change_encodes_its_function() {
        let pid = PermissionId(B256::repeat_byte(3));
        let selectors = [
            (SessionChange::EnableActionPolicies(vec![]), [0x4e, 0x33, 0xad, 0x2e]),
            (
                SessionChange::DisableActionPolicies {
                    action: ActionId(B256::ZERO),
                    policies: vec![],
                },
                [0x6e, 0x79, 0xee, 0xe0],
            ),
            (SessionChange::DisableActionId(ActionId(B256::ZERO)), [0x96, 0xe7, 0x29, 0x62]),
            (SessionChange::EnableUserOpPolicies(vec![]), [0x45, 0x4c, 0x9d, 0x82]),
            (SessionChange::DisableUserOpPolicies(vec![]), [0xd0, 0x56, 0xb0, 0x6d]),
            (
                SessionChange::EnableErc1271Policies(ERC7739Data::default()),
                [0xf5, 0x29, 0x7b, 0x77],
            ),
            (
                SessionChange::DisableErc1271Policies { policies: vec![], contents: vec![] },
                [0x02, 0xa1, 0xa4, 0xcd],
            ),
            (SessionChange::SetPermitPaymaster(false), [0x2e, 0x64, 0x4d, 0x8d]),
        ];
        for (change, selector) in selectors {
            assert_eq!(&change.calldata(pid)[..4], selector, "{change:?}");
        }
    }
}
