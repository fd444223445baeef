//! CTAP status codes (CTAP 2.1 §8.2 "Status codes").
//!
//! A CTAP2 response over NFC is `status byte || CBOR` followed by `90 00`
//! (CTAP 2.1 §11.3 NFC binding); every failure below is sent as its single
//! status byte with no CBOR body.
//!
//! This module is the bottom of the applet: it depends on no other module;
//! the layers above convert their own errors into [`CtapError`] (the CBOR
//! decoder in `cbor`, storage in `env`).

/// Success (`CTAP1_ERR_SUCCESS` / `CTAP2_OK`).
pub const CTAP2_OK: u8 = 0x00;

/// Every CTAP 2.1 error status, its discriminant being the wire byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[repr(u8)]
pub enum CtapError {
    /// `CTAP1_ERR_INVALID_COMMAND`: the command is not a valid CTAP command.
    #[error("CTAP1_ERR_INVALID_COMMAND")]
    InvalidCommand = 0x01,
    /// `CTAP1_ERR_INVALID_PARAMETER`: a parameter is invalid.
    #[error("CTAP1_ERR_INVALID_PARAMETER")]
    InvalidParameter = 0x02,
    /// `CTAP1_ERR_INVALID_LENGTH`: invalid message or item length.
    #[error("CTAP1_ERR_INVALID_LENGTH")]
    InvalidLength = 0x03,
    /// `CTAP1_ERR_INVALID_SEQ`: invalid message sequencing.
    #[error("CTAP1_ERR_INVALID_SEQ")]
    InvalidSeq = 0x04,
    /// `CTAP1_ERR_TIMEOUT`: message timed out.
    #[error("CTAP1_ERR_TIMEOUT")]
    Timeout = 0x05,
    /// `CTAP1_ERR_CHANNEL_BUSY`: channel busy.
    #[error("CTAP1_ERR_CHANNEL_BUSY")]
    ChannelBusy = 0x06,
    /// `CTAP1_ERR_LOCK_REQUIRED`: command requires channel lock.
    #[error("CTAP1_ERR_LOCK_REQUIRED")]
    LockRequired = 0x0A,
    /// `CTAP1_ERR_INVALID_CHANNEL`: command not allowed on this cid.
    #[error("CTAP1_ERR_INVALID_CHANNEL")]
    InvalidChannel = 0x0B,
    /// `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`: invalid/unexpected CBOR type.
    #[error("CTAP2_ERR_CBOR_UNEXPECTED_TYPE")]
    CborUnexpectedType = 0x11,
    /// `CTAP2_ERR_INVALID_CBOR`: error when parsing CBOR.
    #[error("CTAP2_ERR_INVALID_CBOR")]
    InvalidCbor = 0x12,
    /// `CTAP2_ERR_MISSING_PARAMETER`: missing non-optional parameter.
    #[error("CTAP2_ERR_MISSING_PARAMETER")]
    MissingParameter = 0x14,
    /// `CTAP2_ERR_LIMIT_EXCEEDED`: limit for number of items exceeded.
    #[error("CTAP2_ERR_LIMIT_EXCEEDED")]
    LimitExceeded = 0x15,
    /// `CTAP2_ERR_UNSUPPORTED_EXTENSION` (CTAP 2.0; reserved in 2.1).
    #[error("CTAP2_ERR_UNSUPPORTED_EXTENSION")]
    UnsupportedExtension = 0x16,
    /// `CTAP2_ERR_FP_DATABASE_FULL`: fingerprint database is full.
    #[error("CTAP2_ERR_FP_DATABASE_FULL")]
    FpDatabaseFull = 0x17,
    /// `CTAP2_ERR_LARGE_BLOB_STORAGE_FULL`: large blob storage is full.
    #[error("CTAP2_ERR_LARGE_BLOB_STORAGE_FULL")]
    LargeBlobStorageFull = 0x18,
    /// `CTAP2_ERR_CREDENTIAL_EXCLUDED`: valid credential found in the exclude list.
    #[error("CTAP2_ERR_CREDENTIAL_EXCLUDED")]
    CredentialExcluded = 0x19,
    /// `CTAP2_ERR_PROCESSING`: processing (lengthy operation is in progress).
    #[error("CTAP2_ERR_PROCESSING")]
    Processing = 0x21,
    /// `CTAP2_ERR_INVALID_CREDENTIAL`: credential not valid for the authenticator.
    #[error("CTAP2_ERR_INVALID_CREDENTIAL")]
    InvalidCredential = 0x22,
    /// `CTAP2_ERR_USER_ACTION_PENDING`: authentication is waiting for user interaction.
    #[error("CTAP2_ERR_USER_ACTION_PENDING")]
    UserActionPending = 0x23,
    /// `CTAP2_ERR_OPERATION_PENDING`: processing, lengthy operation is in progress.
    #[error("CTAP2_ERR_OPERATION_PENDING")]
    OperationPending = 0x24,
    /// `CTAP2_ERR_NO_OPERATIONS`: no request is pending.
    #[error("CTAP2_ERR_NO_OPERATIONS")]
    NoOperations = 0x25,
    /// `CTAP2_ERR_UNSUPPORTED_ALGORITHM`: authenticator does not support the algorithm.
    #[error("CTAP2_ERR_UNSUPPORTED_ALGORITHM")]
    UnsupportedAlgorithm = 0x26,
    /// `CTAP2_ERR_OPERATION_DENIED`: not authorized for the requested operation.
    #[error("CTAP2_ERR_OPERATION_DENIED")]
    OperationDenied = 0x27,
    /// `CTAP2_ERR_KEY_STORE_FULL`: internal key storage is full.
    #[error("CTAP2_ERR_KEY_STORE_FULL")]
    KeyStoreFull = 0x28,
    /// `CTAP2_ERR_NO_OPERATION_PENDING`: no outstanding operations.
    #[error("CTAP2_ERR_NO_OPERATION_PENDING")]
    NoOperationPending = 0x2A,
    /// `CTAP2_ERR_UNSUPPORTED_OPTION`: unsupported option.
    #[error("CTAP2_ERR_UNSUPPORTED_OPTION")]
    UnsupportedOption = 0x2B,
    /// `CTAP2_ERR_INVALID_OPTION`: not a valid option for the current operation.
    #[error("CTAP2_ERR_INVALID_OPTION")]
    InvalidOption = 0x2C,
    /// `CTAP2_ERR_KEEPALIVE_CANCEL`: pending keep-alive was cancelled.
    #[error("CTAP2_ERR_KEEPALIVE_CANCEL")]
    KeepaliveCancel = 0x2D,
    /// `CTAP2_ERR_NO_CREDENTIALS`: no valid credentials provided.
    #[error("CTAP2_ERR_NO_CREDENTIALS")]
    NoCredentials = 0x2E,
    /// `CTAP2_ERR_USER_ACTION_TIMEOUT`: timeout waiting for user interaction.
    #[error("CTAP2_ERR_USER_ACTION_TIMEOUT")]
    UserActionTimeout = 0x2F,
    /// `CTAP2_ERR_NOT_ALLOWED`: continuation command not allowed.
    #[error("CTAP2_ERR_NOT_ALLOWED")]
    NotAllowed = 0x30,
    /// `CTAP2_ERR_PIN_INVALID`: PIN invalid.
    #[error("CTAP2_ERR_PIN_INVALID")]
    PinInvalid = 0x31,
    /// `CTAP2_ERR_PIN_BLOCKED`: PIN blocked.
    #[error("CTAP2_ERR_PIN_BLOCKED")]
    PinBlocked = 0x32,
    /// `CTAP2_ERR_PIN_AUTH_INVALID`: pinUvAuthParam verification failed.
    #[error("CTAP2_ERR_PIN_AUTH_INVALID")]
    PinAuthInvalid = 0x33,
    /// `CTAP2_ERR_PIN_AUTH_BLOCKED`: blocked until power cycle (three mismatches).
    #[error("CTAP2_ERR_PIN_AUTH_BLOCKED")]
    PinAuthBlocked = 0x34,
    /// `CTAP2_ERR_PIN_NOT_SET`: no PIN has been set.
    #[error("CTAP2_ERR_PIN_NOT_SET")]
    PinNotSet = 0x35,
    /// `CTAP2_ERR_PUAT_REQUIRED` (CTAP 2.0 `PIN_REQUIRED`): a pinUvAuthToken is
    /// required for the selected operation.
    #[error("CTAP2_ERR_PUAT_REQUIRED")]
    PuatRequired = 0x36,
    /// `CTAP2_ERR_PIN_POLICY_VIOLATION`: PIN policy violation.
    #[error("CTAP2_ERR_PIN_POLICY_VIOLATION")]
    PinPolicyViolation = 0x37,
    /// `CTAP2_ERR_PIN_TOKEN_EXPIRED` (CTAP 2.0; reserved in 2.1).
    #[error("CTAP2_ERR_PIN_TOKEN_EXPIRED")]
    PinTokenExpired = 0x38,
    /// `CTAP2_ERR_REQUEST_TOO_LARGE`: request exceeds the authenticator's limits.
    #[error("CTAP2_ERR_REQUEST_TOO_LARGE")]
    RequestTooLarge = 0x39,
    /// `CTAP2_ERR_ACTION_TIMEOUT`: the current operation has timed out.
    #[error("CTAP2_ERR_ACTION_TIMEOUT")]
    ActionTimeout = 0x3A,
    /// `CTAP2_ERR_UP_REQUIRED`: user presence is required.
    #[error("CTAP2_ERR_UP_REQUIRED")]
    UpRequired = 0x3B,
    /// `CTAP2_ERR_UV_BLOCKED`: built-in user verification is disabled.
    #[error("CTAP2_ERR_UV_BLOCKED")]
    UvBlocked = 0x3C,
    /// `CTAP2_ERR_INTEGRITY_FAILURE`: a checksum did not match.
    #[error("CTAP2_ERR_INTEGRITY_FAILURE")]
    IntegrityFailure = 0x3D,
    /// `CTAP2_ERR_INVALID_SUBCOMMAND`: the requested subcommand is invalid.
    #[error("CTAP2_ERR_INVALID_SUBCOMMAND")]
    InvalidSubcommand = 0x3E,
    /// `CTAP2_ERR_UV_INVALID`: built-in user verification unsuccessful.
    #[error("CTAP2_ERR_UV_INVALID")]
    UvInvalid = 0x3F,
    /// `CTAP2_ERR_UNAUTHORIZED_PERMISSION`: the token lacks a needed permission.
    #[error("CTAP2_ERR_UNAUTHORIZED_PERMISSION")]
    UnauthorizedPermission = 0x40,
    /// `CTAP1_ERR_OTHER`: other unspecified error (used for storage failures).
    #[error("CTAP1_ERR_OTHER")]
    Other = 0x7F,
}

impl CtapError {
    /// `CTAP2_ERR_PIN_REQUIRED`, the CTAP 2.0 name of [`CtapError::PuatRequired`].
    pub const PIN_REQUIRED: CtapError = CtapError::PuatRequired;

    /// The status byte sent on the wire.
    pub fn code(self) -> u8 {
        self as u8
    }
}
