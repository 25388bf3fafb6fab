//! The image operations: DescribeImages, CreateImage, RegisterImage, CopyImage, DeregisterImage,
//! and ModifyImageAttribute / DescribeImageAttribute (launch permissions and description); and
//! the permission items images and snapshots share on the wire.
//!
//! DescribeImages lists what the caller may launch: the public catalogue, its own images and
//! those shared with it. An id that exists but that the caller may not see is left out of the
//! answer, an id that does not exist is `InvalidAMIID.NotFound` (AWS CLI reference, 2013:
//! "If you specify an AMI ID for which you do not have access, it will not be included in the
//! returned results"). `ExecutableBy=self` scopes to the caller's images and those shared with
//! it explicitly, an account id to images shared with that account, `all` to public images.

use crate::{
    error::AwsError,
    state::{
        ec2::{self as model, Image, ImageCopy, NewImage, Permission, PermissionChange, RegisteredDevice, Registration},
        World,
    },
    value::Value,
};

use super::decode::{any_matches, boolean, filters, integer, invalid_filter, required, strings, tag_filter, tag_specifications, tags_for, text, Filter};
use super::encode::{image_value, permission_list};
use super::{authorize, dry_run, image_arn, instance_arn, paging, Call};

// ---------------------------------------------------------------------------------------------
// Permission items (`LaunchPermission.Add.N.UserId`, or `OperationType` with `UserId.N`).

fn permission_items(list: Option<&Value>) -> Result<Vec<Permission>, AwsError> {
    let mut items = Vec::new();
    for item in list.map(Value::as_list).unwrap_or_default() {
        if item.get("OrganizationArn").is_some() || item.get("OrganizationalUnitArn").is_some() {
            return Err(organizations_not_emulated());
        }
        items.push(Permission {
            group: text(item, "Group").map(str::to_string),
            user_id: text(item, "UserId").map(str::to_string),
        });
    }
    Ok(items)
}

fn organizations_not_emulated() -> AwsError {
    AwsError::invalid_parameter_value(
        "wana: sharing with organizations or organizational units is not emulated; share with account ids (UserId)",
    )
}

/// The permission change a Modify*Attribute request asks for, in either of EC2's spellings:
/// `<structure>.Add.N.{UserId,Group}` / `.Remove.N...`, or `OperationType` with `UserId.N` and
/// `UserGroup.N`. `None` when the request names no permission at all.
pub(super) fn permission_change(params: &Value, structure: &str) -> Result<Option<PermissionChange>, AwsError> {
    let mut change = PermissionChange::default();
    if let Some(modifications) = params.get(structure) {
        change.add = permission_items(modifications.get("Add"))?;
        change.remove = permission_items(modifications.get("Remove"))?;
    }
    if params.get("OrganizationArn").is_some() || params.get("OrganizationalUnitArn").is_some() {
        return Err(organizations_not_emulated());
    }
    let users = strings(params, "UserId");
    let groups = strings(params, "UserGroup");
    if !users.is_empty() || !groups.is_empty() {
        let items = groups
            .into_iter()
            .map(|g| Permission { group: Some(g), user_id: None })
            .chain(users.iter().map(|u| Permission::user(u)));
        match text(params, "OperationType") {
            Some("add") => change.add.extend(items),
            Some("remove") => change.remove.extend(items),
            Some(other) => {
                return Err(AwsError::invalid_parameter_value(format!(
                    "Value ({other}) for parameter operationType is invalid."
                )))
            }
            None => return Err(AwsError::missing_parameter("OperationType")),
        }
    }
    Ok((!change.is_empty()).then_some(change))
}

fn no_attributes() -> AwsError {
    AwsError::new("InvalidParameterCombination", 400, "No attributes specified.")
}

fn unknown_attribute(attribute: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value ({attribute}) for parameter attribute is invalid. Unknown attribute."))
}

// ---------------------------------------------------------------------------------------------
// DescribeImages.

fn image_matches(filter: &Filter, image: &Image) -> Result<bool, AwsError> {
    let one = |value: &str| any_matches(filter, &[value.to_string()]);
    let devices = |f: &dyn Fn(&model::ImageBlockDevice) -> String| {
        any_matches(filter, &image.block_devices.iter().map(f).collect::<Vec<_>>())
    };
    Ok(match filter.name.as_str() {
        "image-id" => one(&image.id),
        "name" => one(&image.name),
        "description" => one(&image.description),
        "owner-id" => one(&image.owner_id),
        "owner-alias" => image.owner_alias.as_deref().is_some_and(one),
        "state" => one(image.state.name()),
        "architecture" => one(&image.architecture),
        "is-public" => one(if image.public { "true" } else { "false" }),
        "root-device-type" => one("ebs"),
        "root-device-name" => one(&image.root_device_name),
        "image-type" => one("machine"),
        "virtualization-type" => one("hvm"),
        "hypervisor" => one("xen"),
        "platform-details" => one(&image.platform_details),
        "source-instance-id" => image.source_instance_id.as_deref().is_some_and(one),
        "block-device-mapping.device-name" => devices(&|d| d.device_name.clone()),
        "block-device-mapping.snapshot-id" => devices(&|d| d.snapshot.snapshot_id.clone()),
        "block-device-mapping.volume-size" => devices(&|d| d.snapshot.size.to_string()),
        "block-device-mapping.volume-type" => devices(&|d| d.volume_type.clone()),
        "block-device-mapping.encrypted" => devices(&|d| d.snapshot.encrypted.to_string()),
        "block-device-mapping.delete-on-termination" => devices(&|d| d.delete_on_termination.to_string()),
        _ => tag_filter(filter, &image.tags).ok_or_else(|| invalid_filter(&filter.name))?,
    })
}

/// `Owner.N`: account ids, `self`, `amazon`.
fn owned_by(image: &Image, owner: &str, account: &str) -> bool {
    match owner {
        "self" => image.owner_id == account,
        "amazon" => image.owner_alias.as_deref() == Some("amazon"),
        other => image.owner_id == other,
    }
}

/// `ExecutableBy.N`: `self`, `all`, account ids.
fn executable_by(image: &Image, user: &str, account: &str) -> bool {
    match user {
        "all" => image.public,
        "self" => image.owner_id == account || image.launch_permissions.iter().any(|a| a == account),
        other if other == account => executable_by(image, "self", account),
        other => image.launch_permissions.iter().any(|a| a == other),
    }
}

pub(super) fn describe_images(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    authorize(world, call, "ec2:DescribeImages", "*", Vec::new())?;
    dry_run(call)?;
    let account = call.account();
    let ids = strings(call.params, "ImageId");
    let owners = strings(call.params, "Owner");
    let users = strings(call.params, "ExecutableBy");
    let filters = filters(call.params)?;
    let page = paging::page_request(call.params, paging::IMAGES)?;
    if let Some(bad) = ids.iter().find(|id| !model::is_well_formed_id(id, "ami")) {
        return Err(model::malformed_image_id(bad));
    }
    let missing: Vec<&str> =
        ids.iter().filter(|id| !model::image_exists(world, call.region, id)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(model::image_not_found(&missing));
    }
    let mut images = Vec::new();
    for image in &model::visible_images(world, account, call.region) {
        let mut keep = (ids.is_empty() || ids.contains(&image.id))
            && (owners.is_empty() || owners.iter().any(|o| owned_by(image, o, account)))
            && (users.is_empty() || users.iter().any(|u| executable_by(image, u, account)));
        for filter in &filters {
            keep &= image_matches(filter, image)?;
        }
        if keep {
            images.push(image_value(image));
        }
    }
    let (images, next) = page.of(images);
    Ok(Value::structure().with("imagesSet", Value::List(images)).with_opt("nextToken", next))
}

// ---------------------------------------------------------------------------------------------
// New images.

/// Authorizes `action` on a new image, and `ec2:CreateTags` when it is tagged on creation.
fn authorize_new_image(world: &mut World, call: &Call<'_>, action: &str, tagged: bool) -> Result<(), AwsError> {
    let any_image = image_arn(call.region, "*");
    authorize(world, call, action, &any_image, Vec::new())?;
    if tagged {
        let create_action = action.trim_start_matches("ec2:").to_string();
        authorize(world, call, "ec2:CreateTags", &any_image, vec![("ec2:CreateAction", create_action)])?;
    }
    Ok(())
}

pub(super) fn create_image(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let instance_id = required(params, "InstanceId")?;
    let name = required(params, "Name")?;
    boolean(params, "NoReboot")?;
    let tags = tag_specifications(params, &["image", "snapshot"])?;
    if !params.get("BlockDeviceMapping").map(Value::as_list).unwrap_or_default().is_empty() {
        return Err(AwsError::invalid_parameter_value(
            "wana: CreateImage with BlockDeviceMapping is not emulated; the image maps the instance's volumes",
        ));
    }
    authorize(world, call, "ec2:CreateImage", &instance_arn(call.region, call.account(), instance_id), Vec::new())?;
    authorize_new_image(world, call, "ec2:CreateImage", !tags.is_empty())?;
    dry_run(call)?;
    let spec = NewImage { name, description: text(params, "Description"), tags: tags_for(&tags, "image") };
    let image_id =
        model::create_image(world, call.facts(), call.account(), instance_id, &spec, &tags_for(&tags, "snapshot"))?;
    Ok(Value::structure().with("imageId", image_id))
}

/// `BlockDeviceMapping.N` of RegisterImage; instance-store and `NoDevice` mappings create no volume.
fn registered_devices(params: &Value) -> Result<Vec<RegisteredDevice>, AwsError> {
    let mut devices = Vec::new();
    for mapping in params.get("BlockDeviceMapping").map(Value::as_list).unwrap_or_default() {
        let Some(ebs) = mapping.get("Ebs") else {
            continue;
        };
        if mapping.get("NoDevice").is_some() {
            continue;
        }
        devices.push(RegisteredDevice {
            device_name: text(mapping, "DeviceName").unwrap_or_default().to_string(),
            snapshot_id: text(ebs, "SnapshotId").map(str::to_string),
            volume_size: integer(ebs, "VolumeSize")?,
            volume_type: text(ebs, "VolumeType").map(str::to_string),
            delete_on_termination: boolean(ebs, "DeleteOnTermination")?,
        });
    }
    Ok(devices)
}

const ARCHITECTURES: [&str; 5] = ["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];

pub(super) fn register_image(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let name = required(params, "Name")?;
    if text(params, "ImageLocation").is_some() {
        return Err(AwsError::invalid_parameter_value(
            "wana: instance store-backed images (ImageLocation) are not emulated; register EBS snapshots",
        ));
    }
    let architecture = text(params, "Architecture");
    if let Some(bad) = architecture.filter(|a| !ARCHITECTURES.contains(a)) {
        return Err(AwsError::invalid_parameter_value(format!("Value ({bad}) for parameter architecture is invalid.")));
    }
    let tags = tag_specifications(params, &["image"])?;
    let registration = Registration {
        image: NewImage { name, description: text(params, "Description"), tags: tags_for(&tags, "image") },
        architecture,
        root_device_name: text(params, "RootDeviceName"),
        ena_support: boolean(params, "EnaSupport")?,
        block_devices: registered_devices(params)?,
    };
    authorize_new_image(world, call, "ec2:RegisterImage", !tags.is_empty())?;
    dry_run(call)?;
    let image_id = model::register_image(world, call.facts(), call.account(), &registration)?;
    Ok(Value::structure().with("imageId", image_id))
}

pub(super) fn copy_image(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let params = call.params;
    let name = required(params, "Name")?;
    let source_image_id = required(params, "SourceImageId")?;
    let source_region = required(params, "SourceRegion")?;
    let tags = tag_specifications(params, &["image", "snapshot"])?;
    let copy = ImageCopy {
        image: NewImage { name, description: text(params, "Description"), tags: tags_for(&tags, "image") },
        source_image_id,
        source_region,
        encrypted: boolean(params, "Encrypted")?,
        kms_key_id: text(params, "KmsKeyId"),
        copy_image_tags: boolean(params, "CopyImageTags")?.unwrap_or(false),
        snapshot_tags: tags_for(&tags, "snapshot"),
    };
    authorize_new_image(world, call, "ec2:CopyImage", !tags.is_empty())?;
    dry_run(call)?;
    let image_id = model::copy_image(world, call.facts(), call.account(), &copy)?;
    Ok(Value::structure().with("imageId", image_id))
}

pub(super) fn deregister_image(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let image_id = required(call.params, "ImageId")?;
    let delete_snapshots = boolean(call.params, "DeleteAssociatedSnapshots")?.unwrap_or(false);
    model::owned_image(world, call.account(), call.region, image_id)?;
    authorize(world, call, "ec2:DeregisterImage", &image_arn(call.region, image_id), Vec::new())?;
    dry_run(call)?;
    let deleted = model::deregister_image(world, call.account(), call.region, image_id, delete_snapshots)?;
    let mut value = Value::structure().with("return", true);
    if delete_snapshots {
        let results: Value = deleted
            .iter()
            .map(|d| Value::structure().with("snapshotId", d.snapshot_id.as_str()).with("returnCode", d.return_code))
            .collect();
        value.push("deleteSnapshotResultSet", results);
    }
    Ok(value)
}

// ---------------------------------------------------------------------------------------------
// Attributes.

/// What a ModifyImageAttribute request changes.
enum ImageChange {
    LaunchPermission(PermissionChange),
    Description(String),
}

fn image_change(params: &Value) -> Result<ImageChange, AwsError> {
    let description = params
        .get("Description")
        .and_then(|d| text(d, "Value"))
        .or_else(|| text(params, "Value").filter(|_| text(params, "Attribute") == Some("description")));
    match text(params, "Attribute") {
        None | Some("launchPermission") | Some("description") => {}
        Some("imdsSupport") | Some("productCodes") => {
            return Err(AwsError::invalid_parameter_value("wana: only launchPermission and description are emulated"))
        }
        Some(other) => return Err(unknown_attribute(other)),
    }
    if params.get("ImdsSupport").is_some() || params.get("ProductCode").is_some() {
        return Err(AwsError::invalid_parameter_value("wana: only launchPermission and description are emulated"));
    }
    match (permission_change(params, "LaunchPermission")?, description) {
        (Some(change), _) => Ok(ImageChange::LaunchPermission(change)),
        (None, Some(description)) => Ok(ImageChange::Description(description.to_string())),
        (None, None) => Err(no_attributes()),
    }
}

pub(super) fn modify_image_attribute(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let image_id = required(call.params, "ImageId")?;
    let change = image_change(call.params)?;
    let (account, region) = (call.account(), call.region);
    model::owned_image(world, account, region, image_id)?;
    authorize(world, call, "ec2:ModifyImageAttribute", &image_arn(region, image_id), Vec::new())?;
    dry_run(call)?;
    match change {
        ImageChange::LaunchPermission(change) => model::modify_launch_permission(world, account, region, image_id, &change)?,
        ImageChange::Description(text) => model::set_image_description(world, account, region, image_id, &text)?,
    }
    Ok(Value::structure().with("return", true))
}

/// `ImageAttributeName` values this emulator answers without a value of their own.
const EMPTY_IMAGE_ATTRIBUTES: [&str; 9] = [
    "kernel",
    "ramdisk",
    "sriovNetSupport",
    "bootMode",
    "tpmSupport",
    "uefiData",
    "lastLaunchedTime",
    "imdsSupport",
    "deregistrationProtection",
];

pub(super) fn describe_image_attribute(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let image_id = required(call.params, "ImageId")?;
    let attribute = required(call.params, "Attribute")?;
    let known = ["launchPermission", "description", "blockDeviceMapping", "productCodes"];
    if !known.contains(&attribute) && !EMPTY_IMAGE_ATTRIBUTES.contains(&attribute) {
        return Err(unknown_attribute(attribute));
    }
    let (account, region) = (call.account(), call.region);
    let image = model::owned_image(world, account, region, image_id)?;
    authorize(world, call, "ec2:DescribeImageAttribute", &image_arn(region, image_id), Vec::new())?;
    dry_run(call)?;
    let value = Value::structure().with("imageId", image_id);
    Ok(match attribute {
        "launchPermission" => {
            value.with("launchPermission", permission_list(&model::launch_permissions(world, account, region, image_id)?))
        }
        "description" => value.with("description", Value::structure().with("value", image.description.as_str())),
        "productCodes" => value.with("productCodes", Value::List(Vec::new())),
        "blockDeviceMapping" => {
            return Err(AwsError::new("AuthFailure", 400, "Unauthorized attempt to access restricted resource"))
        }
        _ => value,
    })
}
