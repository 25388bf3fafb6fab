//! Instance profiles: the containers that hand one role to EC2 instances.

use chrono::{DateTime, Utc};

use super::{
    errors, find_key, instance_profile_arn, tags::check_unique_tag_keys, with_prefix, IamState, InstanceProfile, Role,
    Tag, INSTANCE_PROFILES_PER_ACCOUNT, ROLES_PER_INSTANCE_PROFILE,
};
use crate::{error::AwsError, ids::IdGenerator};

impl IamState {
    pub fn instance_profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        find_key(&self.instance_profiles, name)
            .and_then(|key| self.instance_profiles.get(&key))
            .ok_or_else(|| errors::no_such_instance_profile(name))
    }

    fn instance_profile_mut(&mut self, name: &str) -> Result<&mut InstanceProfile, AwsError> {
        let key = find_key(&self.instance_profiles, name).ok_or_else(|| errors::no_such_instance_profile(name))?;
        self.instance_profiles.get_mut(&key).ok_or_else(|| errors::no_such_instance_profile(name))
    }

    /// CreateInstanceProfile.
    pub fn create_instance_profile(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        name: &str,
        path: Option<&str>,
        tags: Vec<Tag>,
    ) -> Result<&InstanceProfile, AwsError> {
        let path = path.unwrap_or("/");
        check_unique_tag_keys(&tags)?;
        if find_key(&self.instance_profiles, name).is_some() {
            return Err(errors::already_exists(format!("Instance Profile {name} already exists.")));
        }
        if self.instance_profiles.len() >= INSTANCE_PROFILES_PER_ACCOUNT {
            return Err(errors::quota("InstanceProfilesPerAccount", INSTANCE_PROFILES_PER_ACCOUNT));
        }
        let id = ids.unique_id("AIPA");
        self.set_tags(&id, tags);
        let profile = InstanceProfile {
            name: name.to_string(),
            path: path.to_string(),
            id,
            arn: instance_profile_arn(account, path, name),
            created: now,
            roles: Vec::new(),
        };
        Ok(self.instance_profiles.entry(name.to_string()).or_insert(profile))
    }

    /// ListInstanceProfiles.
    pub fn instance_profiles_with_prefix(&self, path_prefix: Option<&str>) -> Vec<&InstanceProfile> {
        with_prefix(self.instance_profiles.values(), |p| &p.path, path_prefix)
    }

    /// ListInstanceProfilesForRole.
    pub fn instance_profiles_for_role(&self, role_name: &str) -> Result<Vec<&InstanceProfile>, AwsError> {
        let role = self.role(role_name)?;
        Ok(self.instance_profiles.values().filter(|p| p.roles.contains(&role.name)).collect())
    }

    /// The roles of an instance profile, as stored.
    pub fn roles_of(&self, profile: &InstanceProfile) -> Vec<&Role> {
        profile.roles.iter().filter_map(|name| self.roles.get(name)).collect()
    }

    /// AddRoleToInstanceProfile: an instance profile holds one role, and the quota is fixed.
    pub fn add_role_to_instance_profile(&mut self, profile_name: &str, role_name: &str) -> Result<(), AwsError> {
        let profile = self.instance_profile(profile_name)?;
        let role = self.role(role_name)?;
        if profile.roles.len() >= ROLES_PER_INSTANCE_PROFILE {
            return Err(errors::quota("InstanceSessionsPerInstanceProfile", ROLES_PER_INSTANCE_PROFILE));
        }
        let role_name = role.name.clone();
        self.instance_profile_mut(profile_name)?.roles.push(role_name);
        Ok(())
    }

    pub fn remove_role_from_instance_profile(&mut self, profile_name: &str, role_name: &str) -> Result<(), AwsError> {
        self.instance_profile(profile_name)?;
        let role_name = self.role(role_name)?.name.clone();
        let profile = self.instance_profile_mut(profile_name)?;
        let index = profile
            .roles
            .iter()
            .position(|r| *r == role_name)
            .ok_or_else(|| errors::no_such_role(&role_name))?;
        profile.roles.remove(index);
        Ok(())
    }

    /// DeleteInstanceProfile: refused while it holds a role.
    pub fn delete_instance_profile(&mut self, name: &str) -> Result<(), AwsError> {
        let profile = self.instance_profile(name)?;
        if !profile.roles.is_empty() {
            return Err(errors::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        let (key, id) = (profile.name.clone(), profile.id.clone());
        self.instance_profiles.remove(&key);
        self.tags.remove(&id);
        Ok(())
    }
}
