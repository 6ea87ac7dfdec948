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
