//! Run Command end to end without a sandbox: the tests send commands through the handlers,
//! let the emulator clock deliver them to the instances' agents, and play the instance runtime
//! themselves (`take_ssm_jobs`, then `finish_ssm_job` with a made-up outcome), checking what a
//! user reads with `get-command-invocation` and `list-command-invocations --details`.

use chrono::Duration;
use rstest::rstest;

use super::{
    commands::{self, DELIVERY_DELAY_SECONDS},
    jobs::{Job, JobEnd, JobOutcome},
    tests::{at, Fixture, ACCOUNT, CORE, EC2_TRUST, FIRST_TRY, REGION},
};
use crate::{
    error::AwsError,
    principal::{Caller, Principal},
    protocol::ServiceId,
    value::Value,
};

/// Commands are sent 5 s after the agents registered and reach them 2 s later.
const SENT: i64 = FIRST_TRY + 5;
const DELIVERED: i64 = SENT + DELIVERY_DELAY_SECONDS;

/// Two managed instances (the second tagged `team=blue`) and one without a role.
struct Fleet {
    fx: Fixture,
    first: String,
    blue: String,
    unmanaged: String,
}

fn tag_spec(key: &str, value: &str) -> Value {
    Value::structure().with(
        "TagSpecification",
        Value::List(vec![Value::structure()
            .with("ResourceType", "instance")
            .with("Tag", Value::List(vec![Value::structure().with("Key", key).with("Value", value)]))]),
    )
}

fn fleet() -> Fleet {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let first = fx.launch(Some("App"));
    let blue = fx.launch_many(Some("App"), 1, tag_spec("team", "blue")).remove(0);
    let unmanaged = fx.launch(None);
    fx.world.run_due(at(FIRST_TRY));
    Fleet { fx, first, blue, unmanaged }
}

fn strings(values: &[&str]) -> Value {
    values.iter().map(|v| Value::from(*v)).collect()
}

/// `SendCommand` of `document` to `ids` with `parameters`.
fn send_params(document: &str, ids: &[&str], parameters: &[(&str, &[&str])]) -> Value {
    let parameters = Value::Map(parameters.iter().map(|(k, v)| (k.to_string(), strings(v))).collect());
    Value::structure().with("DocumentName", document).with("InstanceIds", strings(ids)).with("Parameters", parameters)
}

fn run_shell(ids: &[&str], commands: &[&str]) -> Value {
    send_params("AWS-RunShellScript", ids, &[("commands", commands)])
}

fn text(value: &Value, name: &str) -> String {
    match value.get(name) {
        Some(Value::Str(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        other => panic!("{name} is {other:?}"),
    }
}

fn error(result: Result<Value, AwsError>) -> (String, String) {
    let error = result.unwrap_err();
    (error.code.to_string(), error.message)
}

impl Fixture {
    fn send(&mut self, seconds: i64, params: Value) -> String {
        let out = self.ssm(at(seconds), "SendCommand", params).unwrap();
        text(out.get("Command").unwrap(), "CommandId")
    }

    fn invocation(&mut self, seconds: i64, command_id: &str, instance_id: &str) -> Value {
        let params = Value::structure().with("CommandId", command_id).with("InstanceId", instance_id);
        self.ssm(at(seconds), "GetCommandInvocation", params).unwrap()
    }

    /// (Status, StatusDetails, ResponseCode) of an invocation.
    fn status(&mut self, seconds: i64, command_id: &str, instance_id: &str) -> (String, String, String) {
        let out = self.invocation(seconds, command_id, instance_id);
        (text(&out, "Status"), text(&out, "StatusDetails"), text(&out, "ResponseCode"))
    }

    /// The jobs queued by `seconds` (effects run first).
    fn jobs(&mut self, seconds: i64) -> Vec<Job> {
        self.world.run_due(at(seconds));
        self.world.take_ssm_jobs()
    }

    /// Plays the runtime: `job` ran from delivery to `seconds` and ended so.
    fn finish(&mut self, job: &Job, seconds: i64, end: JobEnd, stdout: &str, stderr: &str) {
        let outcome = JobOutcome {
            end,
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
            started: at(DELIVERED),
            finished: at(seconds),
        };
        self.world.finish_ssm_job(job, outcome);
    }

    /// `ListCommands` for one command: (Status, StatusDetails, CompletedCount, ErrorCount).
    fn command_status(&mut self, seconds: i64, command_id: &str) -> (String, String, String, String) {
        let out = self.ssm(at(seconds), "ListCommands", Value::structure().with("CommandId", command_id)).unwrap();
        let command = &out.get("Commands").unwrap().as_list()[0];
        let field = |name: &str| match command.get(name) {
            Some(Value::Str(s)) => s.clone(),
            Some(other) => format!("{other:?}"),
            None => String::new(),
        };
        (field("Status"), field("StatusDetails"), field("CompletedCount"), field("ErrorCount"))
    }
}

fn owned(status: (&str, &str, &str)) -> (String, String, String) {
    (status.0.to_string(), status.1.to_string(), status.2.to_string())
}

// ---------------------------------------------------------------------------------------------
// The lifecycle.

#[test]
fn an_invocation_is_pending_then_in_progress_with_a_job_then_success_with_the_scripts_output() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["echo hello", "id -un"]));
    let pending = fx.invocation(SENT, &id, &first);
    assert_eq!(fx.status(SENT, &id, &first), owned(("Pending", "Pending", "-1")));
    assert_eq!((text(&pending, "PluginName"), text(&pending, "ExecutionStartDateTime")), ("aws:runShellScript".to_string(), String::new()));
    assert!(fx.jobs(DELIVERED - 1).is_empty(), "not delivered before the agent's poll");

    let jobs = fx.jobs(DELIVERED);
    assert_eq!(fx.status(DELIVERED, &id, &first), owned(("InProgress", "InProgress", "-1")));
    let [job] = jobs.as_slice() else { panic!("one job: {jobs:?}") };
    assert_eq!((job.instance_id.as_str(), job.command_id.as_str(), job.plugin.as_str()), (first.as_str(), id.as_str(), "aws:runShellScript"));
    assert_eq!((job.script.as_str(), job.run_as.as_str(), job.working_directory.clone()), ("echo hello\nid -un", "root", None));
    assert_eq!(job.timeout, std::time::Duration::from_secs(3600));

    fx.finish(job, DELIVERED + 1, JobEnd::Exited(0), "hello\nroot\n", "");
    let out = fx.invocation(DELIVERED + 2, &id, &first);
    assert_eq!(fx.status(DELIVERED + 2, &id, &first), owned(("Success", "Success", "0")));
    assert_eq!(text(&out, "StandardOutputContent"), "hello\nroot\n");
    assert_eq!(text(&out, "StandardErrorContent"), "");
    assert_eq!(text(&out, "ExecutionElapsedTime"), "PT1S");
    assert!(text(&out, "ExecutionEndDateTime").ends_with(".000Z"));
    assert_eq!(fx.command_status(DELIVERED + 2, &id), ("Success".into(), "Success".into(), "Int(1)".into(), "Int(0)".into()));
}

#[test]
fn the_agent_gives_the_script_its_environment_without_home() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["env"]));
    let job = fx.jobs(DELIVERED).remove(0);
    let env = |name: &str| job.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(env("HOME"), None, "the agent's environment has no HOME");
    assert_eq!(env("SSM_COMMAND_ID"), Some(id));
    assert_eq!(env("AWS_SSM_INSTANCE_ID"), Some(first.clone()));
    assert_eq!(env("AWS_SSM_REGION_NAME").as_deref(), Some(REGION));
    assert_eq!(env("AWS_SSM_PLATFORM_NAME").as_deref(), Some("Amazon Linux"));
    assert_eq!(env("AWS_SSM_PLATFORM_VERSION").as_deref(), Some("2023"));
    assert_eq!(env("PATH").as_deref(), Some("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"));
    assert_eq!(env("PWD").as_deref(), Some("/usr/bin"));
    assert_eq!(env("INVOCATION_ID").map(|v| v.len()), Some(32));
}

#[test]
fn a_failing_script_is_failed_with_its_exit_status_and_the_agents_line_after_its_stderr() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["cat /wrong/file"]));
    let job = fx.jobs(DELIVERED).remove(0);
    fx.finish(&job, DELIVERED + 1, JobEnd::Exited(1), "", "cat: /wrong/file: No such file or directory\n");
    let out = fx.invocation(DELIVERED + 2, &id, &first);
    assert_eq!(fx.status(DELIVERED + 2, &id, &first), owned(("Failed", "Failed", "1")));
    assert_eq!(text(&out, "StandardErrorContent"), "cat: /wrong/file: No such file or directory\nfailed to run commands: exit status 1");
    assert_eq!(fx.command_status(DELIVERED + 2, &id), ("Failed".into(), "Failed".into(), "Int(1)".into(), "Int(1)".into()));

    let details = Value::structure().with("CommandId", id.as_str()).with("Details", true);
    let listed = fx.ssm(at(DELIVERED + 2), "ListCommandInvocations", details).unwrap();
    let plugin = &listed.get("CommandInvocations").unwrap().as_list()[0].get("CommandPlugins").unwrap().as_list()[0];
    assert_eq!((text(plugin, "Name"), text(plugin, "Status"), text(plugin, "ResponseCode")), ("aws:runShellScript".into(), "Failed".into(), "1".into()));
    assert_eq!(
        text(plugin, "Output"),
        "\n----------ERROR-------\ncat: /wrong/file: No such file or directory\nfailed to run commands: exit status 1"
    );
    assert!(plugin.get("ResponseStartDateTime").is_some() && plugin.get("ResponseFinishDateTime").is_some());
    let without = fx.ssm(at(DELIVERED + 2), "ListCommandInvocations", Value::structure().with("CommandId", id.as_str())).unwrap();
    assert!(without.get("CommandInvocations").unwrap().as_list()[0].get("CommandPlugins").unwrap().as_list().is_empty());
}

#[test]
fn output_is_cut_as_the_agent_and_ssm_cut_it() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["yes | head -c 30000"]));
    let job = fx.jobs(DELIVERED).remove(0);
    let stdout = "o".repeat(30_000);
    let stderr = "é".repeat(10_000);
    fx.finish(&job, DELIVERED + 1, JobEnd::Exited(0), &stdout, &stderr);
    let out = fx.invocation(DELIVERED + 2, &id, &first);
    let standard_output = text(&out, "StandardOutputContent");
    assert_eq!(standard_output.len(), 24_000);
    assert!(standard_output.ends_with("o--output truncated--"));
    let standard_error = text(&out, "StandardErrorContent");
    assert_eq!(standard_error.chars().count(), 8_000, "the first 8,000 characters");
    assert!(standard_error.chars().all(|c| c == 'é'));

    let details = Value::structure().with("CommandId", id.as_str()).with("Details", true);
    let listed = fx.ssm(at(DELIVERED + 2), "ListCommandInvocations", details).unwrap();
    let output = text(&listed.get("CommandInvocations").unwrap().as_list()[0].get("CommandPlugins").unwrap().as_list()[0], "Output");
    assert!(output.len() <= 2_500, "{}", output.len());
    assert!(output.contains("\n---Output truncated---\n----------ERROR-------\n"));
    assert!(output.ends_with("\n---Error truncated----"));
}

#[test]
fn working_directory_and_execution_timeout_reach_the_job_and_the_timeout_ends_it() {
    let Fleet { mut fx, first, .. } = fleet();
    let params = send_params(
        "AWS-RunShellScript",
        &[&first],
        &[("commands", &["sleep 999"]), ("workingDirectory", &["/root"]), ("executionTimeout", &["60"])],
    );
    let id = fx.send(SENT, params);
    let job = fx.jobs(DELIVERED).remove(0);
    assert_eq!((job.working_directory.as_deref(), job.timeout), (Some("/root"), std::time::Duration::from_secs(60)));
    assert!(job.env.contains(&("PWD".to_string(), "/root".to_string())));
    fx.finish(&job, DELIVERED + 60, JobEnd::TimedOut, "", "");
    let out = fx.invocation(DELIVERED + 61, &id, &first);
    assert_eq!(fx.status(DELIVERED + 61, &id, &first), owned(("TimedOut", "ExecutionTimedOut", "137")));
    assert_eq!(text(&out, "StandardErrorContent"), "", "no line of the agent's for a timeout");
    assert_eq!(text(&out, "ExecutionElapsedTime"), "PT1M");
}

/// The agent reads `timeoutSeconds` as 3600 outside 5..=172800; SSM refuses values outside
/// 1..=172800 for AWS-RunShellScript's `executionTimeout`.
#[rstest]
#[case("2", Some(3600))]
#[case("172800", Some(172_800))]
#[case("0", None)]
#[case("172801", None)]
#[case("ten", None)]
fn execution_timeout_is_checked_by_ssm_and_read_by_the_agent(#[case] value: &str, #[case] seconds: Option<u64>) {
    let Fleet { mut fx, first, .. } = fleet();
    let params = send_params("AWS-RunShellScript", &[&first], &[("commands", &["true"]), ("executionTimeout", &[value])]);
    let result = fx.ssm(at(SENT), "SendCommand", params);
    match seconds {
        Some(seconds) => {
            result.unwrap();
            assert_eq!(fx.jobs(DELIVERED)[0].timeout, std::time::Duration::from_secs(seconds));
        }
        None => assert_eq!(error(result).0, "InvalidParameters"),
    }
}

#[test]
fn an_expired_command_times_out_what_runs_and_the_runtime_is_told_to_stop() {
    let Fleet { mut fx, first, .. } = fleet();
    let params = run_shell(&[&first], &["sleep 99999"]).with("TimeoutSeconds", 30_i64);
    let id = fx.send(SENT, params);
    let job = fx.jobs(DELIVERED).remove(0);
    assert_eq!(fx.world.ssm_job_cancelled(&job), None);
    // ExpiresAfter = sent + 30 s of delivery + 3600 s of execution.
    let expires = SENT + 30 + 3600;
    assert_eq!(fx.status(expires - 1, &id, &first).0, "InProgress");
    assert_eq!(fx.status(expires, &id, &first), owned(("TimedOut", "DeliveryTimedOut", "-1")));
    assert_eq!(fx.world.ssm_job_cancelled(&job), Some(JobEnd::Cancelled));
    fx.finish(&job, expires + 5, JobEnd::Cancelled, "late", "");
    assert_eq!(fx.status(expires + 6, &id, &first).1, "DeliveryTimedOut", "a late outcome changes nothing");
}

// ---------------------------------------------------------------------------------------------
// Cancelling, and instances that stop.

#[test]
fn cancelling_a_pending_invocation_ends_it_and_nothing_is_delivered() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["true"]));
    fx.ssm(at(SENT + 1), "CancelCommand", Value::structure().with("CommandId", id.as_str())).unwrap();
    assert_eq!(fx.status(SENT + 1, &id, &first), owned(("Cancelled", "Cancelled", "-1")));
    assert!(fx.jobs(DELIVERED + 60).is_empty());
    assert_eq!(fx.command_status(DELIVERED, &id).0, "Cancelled");
}

#[test]
fn cancelling_a_running_invocation_asks_the_runtime_to_kill_it() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["sleep 600"]));
    let job = fx.jobs(DELIVERED).remove(0);
    fx.ssm(at(DELIVERED + 5), "CancelCommand", Value::structure().with("CommandId", id.as_str())).unwrap();
    assert_eq!(fx.status(DELIVERED + 5, &id, &first).0, "Cancelling");
    assert_eq!(fx.command_status(DELIVERED + 5, &id).0, "Cancelling");
    assert_eq!(fx.world.ssm_job_cancelled(&job), Some(JobEnd::Cancelled));
    fx.finish(&job, DELIVERED + 6, JobEnd::Cancelled, "", "");
    assert_eq!(fx.status(DELIVERED + 7, &id, &first), owned(("Cancelled", "Cancelled", "137")));
    assert_eq!(fx.command_status(DELIVERED + 7, &id).0, "Cancelled");
}

#[test]
fn a_stopped_instance_kills_its_job_and_the_invocation_fails() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["sleep 600"]));
    let job = fx.jobs(DELIVERED).remove(0);
    fx.ec2(at(DELIVERED + 10), "StopInstances", Value::structure().with("InstanceId", first.as_str())).unwrap();
    assert_eq!(fx.world.ssm_job_cancelled(&job), Some(JobEnd::InstanceGone));
    fx.finish(&job, DELIVERED + 10, JobEnd::InstanceGone, "partial\n", "");
    let out = fx.invocation(DELIVERED + 11, &id, &first);
    assert_eq!((text(&out, "Status"), text(&out, "StatusDetails"), text(&out, "ResponseCode")), owned(("Failed", "Failed", "-1")));
    assert_eq!(text(&out, "StandardOutputContent"), "partial\n");
}

#[test]
fn a_job_the_runtime_cannot_run_is_undeliverable_with_the_reason() {
    let Fleet { mut fx, first, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["true"]));
    let job = fx.jobs(DELIVERED).remove(0);
    fx.finish(&job, DELIVERED, JobEnd::Undeliverable("user namespaces are not available".to_string()), "", "");
    let out = fx.invocation(DELIVERED + 1, &id, &first);
    assert_eq!((text(&out, "Status"), text(&out, "StatusDetails")), ("Failed".to_string(), "Undeliverable".to_string()));
    assert_eq!(text(&out, "StandardErrorContent"), "user namespaces are not available");
    assert_eq!(fx.command_status(DELIVERED + 1, &id).3, "Int(0)", "undeliverable invocations are not errors");
}

// ---------------------------------------------------------------------------------------------
// Who receives commands.

#[test]
fn only_managed_nodes_receive_commands() {
    let Fleet { mut fx, first, unmanaged, .. } = fleet();
    for ids in [vec![unmanaged.as_str()], vec![first.as_str(), unmanaged.as_str()], vec!["i-0123456789abcdef0"]] {
        let result = fx.ssm(at(SENT), "SendCommand", run_shell(&ids, &["true"]));
        assert_eq!(error(result), ("InvalidInstanceId".to_string(), String::new()), "{ids:?}");
    }
    fx.ec2(at(SENT), "StopInstances", Value::structure().with("InstanceId", first.as_str())).unwrap();
    let result = fx.ssm(at(SENT + 60), "SendCommand", run_shell(&[&first], &["true"]));
    assert_eq!(error(result).0, "InvalidInstanceId", "a stopped instance");
}

fn targets(key: &str, values: &[&str]) -> Value {
    let target = Value::structure().with("Key", key).with("Values", strings(values));
    Value::structure()
        .with("DocumentName", "AWS-RunShellScript")
        .with("Targets", Value::List(vec![target]))
        .with("Parameters", Value::Map(vec![("commands".to_string(), strings(&["true"]))]))
}

#[test]
fn tag_targets_reach_the_managed_nodes_with_the_tag() {
    let Fleet { mut fx, first, blue, .. } = fleet();
    let out = fx.ssm(at(SENT), "SendCommand", targets("tag:team", &["blue"])).unwrap();
    let command = out.get("Command").unwrap();
    assert_eq!(command.get("TargetCount"), Some(&Value::from(1_usize)));
    assert!(command.get("InstanceIds").unwrap().as_list().is_empty());
    let jobs = fx.jobs(DELIVERED);
    assert_eq!(jobs.iter().map(|j| j.instance_id.as_str()).collect::<Vec<_>>(), vec![blue.as_str()]);

    let out = fx.ssm(at(SENT), "SendCommand", targets("InstanceIds", &[&first])).unwrap();
    assert_eq!(out.get("Command").unwrap().get("TargetCount"), Some(&Value::from(1_usize)));

    let out = fx.ssm(at(SENT), "SendCommand", targets("tag:team", &["red"])).unwrap();
    let id = text(out.get("Command").unwrap(), "CommandId");
    assert_eq!(fx.command_status(SENT, &id).1, "NoInstancesInTag");
}

// ---------------------------------------------------------------------------------------------
// Custom documents.

/// The report's document (Qiita, ponpoko0008), indented as YAML needs.
const REPORT_DOCUMENT: &str = "schemaVersion: '2.2'
description: \"cred test document\"
mainSteps:
- action: aws:runShellScript
  name: testdocuments
  inputs:
    runCommand:
    - |
      # Upload to S3
      aws s3 cp hogehoge.txt s3://hogehoge/hogehoge.txt
      aws s3 cp mochimochi.txt s3://hogehoge/mochimochi.txt
";

const UPLOAD_DOCUMENT: &str = "schemaVersion: \"2.2\"
description: Upload files
parameters:
  bucket:
    type: String
    description: The bucket
  files:
    type: StringList
    default: [a.txt]
  greeting:
    type: String
    default: hello
mainSteps:
- action: aws:runShellScript
  name: upload
  inputs:
    workingDirectory: /root
    timeoutSeconds: '120'
    runCommand:
    - echo {{ greeting }}
    - aws s3 cp {{files}} s3://{{ bucket }}/
";

fn create(name: &str, content: &str, format: Option<&str>) -> Value {
    Value::structure()
        .with("Name", name)
        .with("Content", content)
        .with("DocumentType", "Command")
        .with_opt("DocumentFormat", format)
}

#[test]
fn the_reports_document_runs_its_script_as_one_step() {
    let Fleet { mut fx, first, blue, .. } = fleet();
    let created = fx.ssm(at(SENT), "CreateDocument", create("CredTest", REPORT_DOCUMENT, Some("YAML"))).unwrap();
    let description = created.get("DocumentDescription").unwrap();
    assert_eq!((text(description, "SchemaVersion"), text(description, "Status")), ("2.2".to_string(), "Creating".to_string()));
    let params = Value::structure().with("DocumentName", "CredTest").with("InstanceIds", strings(&[&first, &blue]));
    let id = fx.send(SENT, params);
    let jobs = fx.jobs(DELIVERED);
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].script,
        "# Upload to S3\naws s3 cp hogehoge.txt s3://hogehoge/hogehoge.txt\naws s3 cp mochimochi.txt s3://hogehoge/mochimochi.txt\n"
    );
    assert_eq!(jobs[0].plugin, "testdocuments");
    let stderr = "upload failed: ./hogehoge.txt to s3://hogehoge/hogehoge.txt An error occurred (InvalidAccessKeyId) when calling \
                  the PutObject operation: The AWS Access Key Id you provided does not exist in our records.\n";
    fx.finish(&jobs[0], DELIVERED + 3, JobEnd::Exited(1), "", stderr);
    fx.finish(&jobs[1], DELIVERED + 3, JobEnd::Exited(0), "upload: ./hogehoge.txt to s3://hogehoge/hogehoge.txt\n", "");
    let failed = fx.invocation(DELIVERED + 4, &id, &jobs[0].instance_id);
    assert_eq!(text(&failed, "PluginName"), "testdocuments");
    assert_eq!(text(&failed, "StandardErrorContent"), format!("{stderr}failed to run commands: exit status 1"));
    assert_eq!(fx.status(DELIVERED + 4, &id, &jobs[1].instance_id).0, "Success");
    assert_eq!(fx.command_status(DELIVERED + 4, &id), ("Failed".into(), "Failed".into(), "Int(2)".into(), "Int(1)".into()));
}

#[test]
fn a_yaml_documents_parameters_are_declared_defaulted_and_substituted() {
    let Fleet { mut fx, first, .. } = fleet();
    fx.ssm(at(SENT), "CreateDocument", create("Upload", UPLOAD_DOCUMENT, Some("YAML"))).unwrap();
    let described = fx.ssm(at(SENT), "DescribeDocument", Value::structure().with("Name", "Upload")).unwrap();
    let document = described.get("Document").unwrap();
    assert_eq!((text(document, "Status"), text(document, "DocumentFormat"), text(document, "Owner")), ("Active".into(), "YAML".into(), ACCOUNT.into()));
    let parameters: Vec<(String, Option<String>)> = document
        .get("Parameters")
        .unwrap()
        .as_list()
        .iter()
        .map(|p| (text(p, "Name"), p.get("DefaultValue").and_then(Value::as_str).map(str::to_string)))
        .collect();
    assert_eq!(
        parameters,
        vec![("bucket".into(), None), ("files".into(), Some("[\"a.txt\"]".into())), ("greeting".into(), Some("hello".into()))]
    );

    fx.send(SENT, send_params("Upload", &[&first], &[("bucket", &["reports"])]));
    let job = fx.jobs(DELIVERED).remove(0);
    assert_eq!(job.script, "echo hello\naws s3 cp a.txt s3://reports/");
    assert_eq!((job.working_directory.as_deref(), job.timeout), (Some("/root"), std::time::Duration::from_secs(120)));

    for parameters in [vec![], vec![("bucket", &["b"][..]), ("colour", &["red"][..])], vec![("bucket", &["b", "c"][..])]] {
        let result = fx.ssm(at(SENT), "SendCommand", send_params("Upload", &[&first], &parameters));
        assert_eq!(error(result), ("InvalidParameters".to_string(), "document Upload does not support parameters.".to_string()));
    }
}

#[test]
fn steps_run_one_after_the_other_and_are_asked_for_by_name() {
    let Fleet { mut fx, first, .. } = fleet();
    let content = r#"{"schemaVersion":"2.2","description":"two steps","mainSteps":[
        {"action":"aws:runShellScript","name":"first","inputs":{"runCommand":["echo one"]}},
        {"action":"aws:runShellScript","name":"second","inputs":{"runCommand":["echo two"]}}]}"#;
    fx.ssm(at(SENT), "CreateDocument", create("TwoSteps", content, None)).unwrap();
    let id = fx.send(SENT, Value::structure().with("DocumentName", "TwoSteps").with("InstanceIds", strings(&[&first])));
    let first_job = fx.jobs(DELIVERED).remove(0);
    assert_eq!(first_job.plugin, "first");
    fx.finish(&first_job, DELIVERED + 1, JobEnd::Exited(3), "one\n", "");
    let second_job = fx.jobs(DELIVERED + 1).remove(0);
    assert_eq!((second_job.plugin.as_str(), second_job.script.as_str()), ("second", "echo two"));
    let params = Value::structure().with("CommandId", id.as_str()).with("InstanceId", first.as_str());
    assert_eq!(error(fx.ssm(at(DELIVERED + 1), "GetCommandInvocation", params.clone())).0, "InvalidPluginName");
    let second = fx.ssm(at(DELIVERED + 1), "GetCommandInvocation", params.clone().with("PluginName", "second")).unwrap();
    assert_eq!(text(&second, "Status"), "InProgress");
    fx.finish(&second_job, DELIVERED + 2, JobEnd::Exited(0), "two\n", "");
    let first_result = fx.ssm(at(DELIVERED + 3), "GetCommandInvocation", params.clone().with("PluginName", "first")).unwrap();
    assert_eq!((text(&first_result, "Status"), text(&first_result, "ResponseCode")), ("Failed".into(), "3".into()));
    let wrong = fx.ssm(at(DELIVERED + 3), "GetCommandInvocation", params.with("PluginName", "third"));
    assert_eq!(error(wrong).0, "InvalidPluginName");
    assert_eq!(fx.command_status(DELIVERED + 3, &id).0, "Failed");
}

#[rstest]
#[case::yaml_sent_as_json(create("Doc", REPORT_DOCUMENT, None), "InvalidDocumentContent", "JSON not well-formed. at Line: 1, Column: 1")]
#[case::undeclared_parameter(
    create("Doc", "schemaVersion: '2.2'\nmainSteps:\n- action: aws:runShellScript\n  name: s\n  inputs:\n    runCommand: ['echo {{ who }}']\n", Some("YAML")),
    "InvalidDocumentContent",
    "Parameter \"who\" is not declared."
)]
#[case::schema_version(create("Doc", r#"{"schemaVersion":"0.3","mainSteps":[]}"#, None), "InvalidDocumentSchemaVersion", "Document schema version, 0.3, is not supported by the document type Command.")]
#[case::no_steps(create("Doc", r#"{"schemaVersion":"2.2","mainSteps":[]}"#, None), "InvalidDocumentContent", "mainSteps must list at least one step.")]
#[case::reserved_name(create("AWS-Mine", r#"{"schemaVersion":"2.2"}"#, None), "ValidationException", "Invalid document name AWS-Mine: aws, amazon and amzn are reserved name prefixes.")]
#[case::name_pattern(
    create("a b", "{}", None),
    "ValidationException",
    "1 validation error detected: Value 'a b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$"
)]
fn bad_documents_have_ssms_errors(#[case] params: Value, #[case] code: &str, #[case] message: &str) {
    let mut fx = Fixture::new();
    assert_eq!(error(fx.ssm(at(0), "CreateDocument", params)), (code.to_string(), message.to_string()));
}

#[test]
fn documents_exist_once_and_are_gone_once_deleted() {
    let mut fx = Fixture::new();
    fx.ssm(at(0), "CreateDocument", create("Upload", UPLOAD_DOCUMENT, Some("YAML"))).unwrap();
    let again = fx.ssm(at(1), "CreateDocument", create("Upload", UPLOAD_DOCUMENT, Some("YAML")));
    assert_eq!(error(again).0, "DocumentAlreadyExists");
    fx.ssm(at(2), "DeleteDocument", Value::structure().with("Name", "Upload")).unwrap();
    let gone = fx.ssm(at(3), "DescribeDocument", Value::structure().with("Name", "Upload"));
    assert_eq!(error(gone), ("InvalidDocument".to_string(), "The specified document does not exist.".to_string()));
    let sent = fx.ssm(at(3), "SendCommand", send_params("Upload", &["i-0123456789abcdef0"], &[]));
    assert_eq!(error(sent).0, "InvalidDocument");
    let aws = fx.ssm(at(3), "DeleteDocument", Value::structure().with("Name", "AWS-RunShellScript"));
    assert_eq!(error(aws).0, "InvalidDocumentOperation");
    let built_in = fx.ssm(at(3), "DescribeDocument", Value::structure().with("Name", "AWS-RunShellScript")).unwrap();
    let document = built_in.get("Document").unwrap();
    assert_eq!((text(document, "Owner"), text(document, "SchemaVersion")), ("Amazon".into(), "1.2".into()));
}

// ---------------------------------------------------------------------------------------------
// Errors of the invocation operations.

#[test]
fn unknown_commands_and_invocations_have_ssms_errors() {
    let Fleet { mut fx, first, blue, .. } = fleet();
    let id = fx.send(SENT, run_shell(&[&first], &["true"]));
    let get = |command: &str, instance: &str| Value::structure().with("CommandId", command).with("InstanceId", instance);
    let unknown = "0b1c2d3e-0000-4000-8000-000000000001";
    for (params, code) in [
        (get(unknown, &first), "InvocationDoesNotExist"),
        (get(&id, &blue), "InvocationDoesNotExist"),
        (get("not-a-command-id-but-36-characters!!", &first), "InvalidCommandId"),
        (get("short", &first), "ValidationException"),
    ] {
        assert_eq!(error(fx.ssm(at(SENT), "GetCommandInvocation", params)).0, code);
    }
    let list = fx.ssm(at(SENT), "ListCommands", Value::structure().with("CommandId", unknown));
    assert_eq!(error(list).0, "InvalidCommandId");
    let cancel = fx.ssm(at(SENT), "CancelCommand", Value::structure().with("CommandId", unknown));
    assert_eq!(error(cancel).0, "InvalidCommandId");
}

#[test]
fn list_filters_select_by_status_and_stage() {
    let Fleet { mut fx, first, blue, .. } = fleet();
    let done = fx.send(SENT, run_shell(&[&first], &["true"]));
    let job = fx.jobs(DELIVERED).remove(0);
    fx.finish(&job, DELIVERED, JobEnd::Exited(0), "", "");
    let running = fx.send(DELIVERED + 1, run_shell(&[&blue], &["sleep 9"]));
    let filter = |key: &str, value: &str| {
        Value::structure().with("Filters", Value::List(vec![Value::structure().with("key", key).with("value", value)]))
    };
    let ids = |fx: &mut Fixture, params: Value| -> Vec<String> {
        let out = fx.ssm(at(DELIVERED + 5), "ListCommands", params).unwrap();
        out.get("Commands").unwrap().as_list().iter().map(|c| text(c, "CommandId")).collect()
    };
    assert_eq!(ids(&mut fx, Value::structure()), vec![running.clone(), done.clone()], "newest first");
    assert_eq!(ids(&mut fx, filter("Status", "Success")), vec![done.clone()]);
    assert_eq!(ids(&mut fx, filter("ExecutionStage", "Executing")), vec![running.clone()]);
    assert_eq!(ids(&mut fx, Value::structure().with("InstanceId", first.as_str())), vec![done]);
    let stage = fx.ssm(at(DELIVERED + 5), "ListCommandInvocations", filter("ExecutionStage", "Complete"));
    assert_eq!(error(stage).0, "InvalidFilterKey");
}

// ---------------------------------------------------------------------------------------------
// Authorization.

/// A user of the account with one inline policy.
fn user(fx: &mut Fixture, name: &str, policy: &str) -> Caller {
    let (iam, ids) = fx.world.iam_and_ids(ACCOUNT).unwrap();
    let user_id = iam.create_user(ids, ACCOUNT, at(0), name, None, Vec::new()).unwrap().id.clone();
    iam.put_user_policy(name, "run", policy).unwrap();
    Caller {
        principal: Principal::User { account: ACCOUNT.to_string(), name: name.to_string(), path: "/".to_string(), user_id },
        ..fx.admin()
    }
}

#[test]
fn send_command_needs_the_document_and_every_instance() {
    let Fleet { mut fx, first, blue, .. } = fleet();
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ssm:SendCommand","Resource":["arn:aws:ssm:{REGION}::document/AWS-RunShellScript","arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{first}"]}}]}}"#
    );
    let operator = user(&mut fx, "operator", &policy);
    fx.call(&operator, ServiceId::Ssm, at(SENT), "SendCommand", run_shell(&[&first], &["true"])).unwrap();
    let refused = fx.call(&operator, ServiceId::Ssm, at(SENT), "SendCommand", run_shell(&[&first, &blue], &["true"]));
    assert_eq!(
        error(refused),
        (
            "AccessDeniedException".to_string(),
            format!(
                "User: arn:aws:iam::{ACCOUNT}:user/operator is not authorized to perform: ssm:SendCommand on resource: \
                 arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{blue} because no identity-based policy allows the ssm:SendCommand action"
            )
        )
    );
    fx.ssm(at(SENT), "CreateDocument", create("Upload", UPLOAD_DOCUMENT, Some("YAML"))).unwrap();
    let other_document = fx.call(&operator, ServiceId::Ssm, at(SENT), "SendCommand", send_params("Upload", &[&first], &[("bucket", &["b"])]));
    assert!(error(other_document).1.contains(&format!("arn:aws:ssm:{REGION}:{ACCOUNT}:document/Upload")));
}

#[test]
fn an_agent_whose_role_may_not_get_messages_never_takes_the_command_until_it_may() {
    let mut fx = Fixture::new();
    fx.role_in_profile("Reporter", EC2_TRUST);
    let update_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:UpdateInstanceInformation","Resource":"*"}]}"#;
    fx.world.iam_mut(ACCOUNT).unwrap().put_role_policy("Reporter", "agent", update_only).unwrap();
    let first = fx.launch(Some("Reporter"));
    let second = fx.launch(Some("Reporter"));
    fx.world.run_due(at(FIRST_TRY));
    let late = fx.send(SENT, run_shell(&[&first], &["true"]).with("TimeoutSeconds", 60_i64));
    assert!(fx.jobs(SENT + 59).is_empty());
    assert_eq!(fx.status(SENT + 59, &late, &first).0, "Pending");
    let invocation = commands::command(&fx.world, ACCOUNT, REGION, &late).unwrap().invocation(&first).unwrap().clone();
    assert!(invocation.delivery_error.as_deref().is_some_and(|e| e.starts_with("AccessDeniedException: ")), "{invocation:?}");
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/Reporter/{first}");
    assert!(fx.world.authz_log.records().any(|r| r.action == "ec2messages:GetMessages" && r.caller_arn == session && !r.allowed));
    assert_eq!(fx.status(SENT + 60, &late, &first), owned(("TimedOut", "DeliveryTimedOut", "-1")));
    assert_eq!(fx.command_status(SENT + 60, &late).1, "DeliveryTimedOut");

    // Allowed before the delivery timeout, the command is taken at the agent's next poll.
    let fixed = fx.send(SENT + 70, run_shell(&[&second], &["true"]));
    fx.attach("Reporter", CORE);
    let jobs = fx.jobs(SENT + 70 + DELIVERY_DELAY_SECONDS + 30);
    assert_eq!(jobs.iter().map(|j| (j.command_id.as_str(), j.instance_id.as_str())).collect::<Vec<_>>(), vec![(fixed.as_str(), second.as_str())]);
}

#[test]
fn a_served_emulators_latency_scale_shortens_delivery_but_not_the_callers_timeouts() {
    let world = crate::state::World::new(crate::profile::BehaviourProfile::Current, at(0))
        .with_port(crate::dispatch::pipeline())
        .with_latency_scale(10);
    let mut fx = Fixture::with(world);
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let first = fx.launch(Some("App"));
    fx.world.run_due(at(10));
    let out = fx.ssm(at(10), "SendCommand", run_shell(&[&first], &["true"]).with("TimeoutSeconds", 30_i64)).unwrap();
    let command = out.get("Command").unwrap();
    assert_eq!(command.get("ExpiresAfter"), Some(&Value::Timestamp(at(10) + Duration::seconds(30 + 3600))));
    fx.world.run_due(at(10) + Duration::milliseconds(200));
    assert_eq!(fx.world.take_ssm_jobs().len(), 1, "delivered 0.2 s later");
}

#[rstest]
#[case::delivery_timeout(
    run_shell(&["i-0123456789abcdef0"], &["true"]).with("TimeoutSeconds", 10_i64),
    "1 validation error detected: Value '10' at 'timeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 30"
)]
#[case::instance_id(
    run_shell(&["web-1"], &["true"]),
    "1 validation error detected: Value 'web-1' at 'instanceIds.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)"
)]
#[case::max_errors(
    run_shell(&["i-0123456789abcdef0"], &["true"]).with("MaxErrors", "some"),
    "1 validation error detected: Value 'some' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$"
)]
#[case::no_targets(Value::structure().with("DocumentName", "AWS-RunShellScript"), "Specify InstanceIds or Targets.")]
fn send_command_members_are_checked_against_the_model(#[case] params: Value, #[case] message: &str) {
    let mut fx = Fixture::new();
    assert_eq!(error(fx.ssm(at(0), "SendCommand", params)), ("ValidationException".to_string(), message.to_string()));
}
