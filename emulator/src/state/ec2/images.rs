//! The images an account can launch: Amazon's public catalogue, the account's own images and
//! those other accounts share with it, and the lookup a launch makes.

use super::{is_well_formed_id, image_not_found, malformed_image_id, World};
use crate::error::AwsError;

/// An EBS snapshot behind an image's block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRef {
    pub snapshot_id: String,
    /// GiB.
    pub size: i64,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBlockDevice {
    pub device_name: String,
    pub snapshot: SnapshotRef,
    pub volume_type: String,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_id: String,
    /// `amazon` for Amazon's public images.
    pub owner_alias: Option<String>,
    pub public: bool,
    /// Accounts allowed to launch a private image besides its owner.
    pub launch_permissions: Vec<String>,
    /// ISO 8601 text, as EC2 answers it.
    pub creation_date: String,
    pub image_location: String,
    pub architecture: String,
    pub root_device_name: String,
    pub block_devices: Vec<ImageBlockDevice>,
    pub platform_details: String,
    pub ena_support: bool,
}

/// Amazon's account that owns Amazon Linux images.
pub const AMAZON_OWNER_ID: &str = "137112412989";

/// The public images every account in every region can launch (ids are region-independent
/// here, unlike on AWS). Each is EBS-backed with an 8 GiB root snapshot on /dev/xvda.
pub fn public_images() -> Vec<Image> {
    let amazon = |id: &str, name: &str, description: &str, created: &str, snapshot: &str, volume_type: &str| Image {
        id: id.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        owner_id: AMAZON_OWNER_ID.to_string(),
        owner_alias: Some("amazon".to_string()),
        public: true,
        launch_permissions: Vec::new(),
        creation_date: created.to_string(),
        image_location: format!("amazon/{name}"),
        architecture: "x86_64".to_string(),
        root_device_name: "/dev/xvda".to_string(),
        block_devices: vec![ImageBlockDevice {
            device_name: "/dev/xvda".to_string(),
            snapshot: SnapshotRef { snapshot_id: snapshot.to_string(), size: 8, encrypted: false, kms_key_id: None },
            volume_type: volume_type.to_string(),
            delete_on_termination: true,
        }],
        platform_details: "Linux/UNIX".to_string(),
        ena_support: true,
    };
    vec![
        amazon(
            "ami-374db956",
            "amzn-ami-hvm-2016.03.3.x86_64-gp2",
            "Amazon Linux AMI 2016.03.3 x86_64 HVM GP2",
            "2016-06-22T08:00:00.000Z",
            "snap-0a1b2c3d4e5f60001",
            "gp2",
        ),
        amazon(
            "ami-0a2c8e1c5f3b7d901",
            "al2023-ami-2023.4.20240416.0-kernel-6.1-x86_64",
            "Amazon Linux 2023 AMI 2023.4.20240416.0 x86_64 HVM kernel-6.1",
            "2024-04-16T20:00:00.000Z",
            "snap-0a1b2c3d4e5f60002",
            "gp3",
        ),
    ]
}

/// Images an account may launch or describe: the public catalogue, its own images in the
/// region, and images of other accounts in the region shared with it.
pub fn visible_images(world: &World, account: &str, region: &str) -> Vec<Image> {
    let mut images = public_images();
    for (owner, other) in &world.accounts {
        let Some(regional) = other.regions.get(region) else {
            continue;
        };
        images.extend(
            regional
                .ec2
                .images
                .values()
                .filter(|image| {
                    owner == account || image.public || image.launch_permissions.iter().any(|a| a == account)
                })
                .cloned(),
        );
    }
    images
}

/// The image with this id that the account may launch.
pub fn find_image(world: &World, account: &str, region: &str, image_id: &str) -> Result<Image, AwsError> {
    if !is_well_formed_id(image_id, "ami") {
        return Err(malformed_image_id(image_id));
    }
    visible_images(world, account, region)
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| image_not_found(&[image_id]))
}
