//! The services' deferred effects: which events there are, and which model applies each when it
//! is due. The queue itself is `super::scheduler`; the models schedule their own event types
//! through [`World::schedule`] and never name this file.

use chrono::{DateTime, Utc};

use super::{autoscaling, cloudformation, cloudwatch, ec2, kms, scheduler::Due, ssm, World};

/// A service's deferred effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Ec2(ec2::Event),
    CloudWatch(cloudwatch::Event),
    CloudFormation(cloudformation::Event),
    Kms(kms::Event),
    AutoScaling(autoscaling::Event),
    Ssm(ssm::Event),
}

impl From<ec2::Event> for Effect {
    fn from(event: ec2::Event) -> Self {
        Effect::Ec2(event)
    }
}

impl From<cloudwatch::Event> for Effect {
    fn from(event: cloudwatch::Event) -> Self {
        Effect::CloudWatch(event)
    }
}

impl From<cloudformation::Event> for Effect {
    fn from(event: cloudformation::Event) -> Self {
        Effect::CloudFormation(event)
    }
}

impl From<kms::Event> for Effect {
    fn from(event: kms::Event) -> Self {
        Effect::Kms(event)
    }
}

impl From<autoscaling::Event> for Effect {
    fn from(event: autoscaling::Event) -> Self {
        Effect::AutoScaling(event)
    }
}

impl From<ssm::Event> for Effect {
    fn from(event: ssm::Event) -> Self {
        Effect::Ssm(event)
    }
}

impl World {
    /// Queues an effect of a service for `at`.
    pub fn schedule(&mut self, at: DateTime<Utc>, account: &str, region: &str, event: impl Into<Effect>) {
        let due = Due { at, account: account.to_string(), region: region.to_string() };
        self.scheduler.push(due, event.into());
    }

    /// An instance reached `running` at `at`: the software that starts with it (the SSM Agent)
    /// starts. EC2's model calls this; it never names the models of that software.
    pub fn instance_started(&mut self, account: &str, region: &str, instance_id: &str, at: DateTime<Utc>) {
        ssm::agent::instance_running(self, account, region, instance_id, at);
    }

    /// Runs every effect due by `now`, oldest first. An effect may schedule further effects;
    /// those run too if they are due.
    pub fn run_due(&mut self, now: DateTime<Utc>) {
        while let Some((due, effect)) = self.scheduler.pop_due(now) {
            match effect {
                Effect::Ec2(event) => ec2::on_event(self, &due, event),
                Effect::CloudWatch(event) => cloudwatch::on_event(self, &due, event),
                Effect::CloudFormation(event) => cloudformation::on_event(self, &due, event),
                Effect::Kms(event) => kms::on_event(self, &due, event),
                Effect::AutoScaling(event) => autoscaling::on_event(self, &due, event),
                Effect::Ssm(event) => ssm::on_event(self, &due, event),
            }
        }
    }
}
