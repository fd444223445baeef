//! Named status codes: ISO/IEC 7816-4 status words (§5.6) and CTAP2 status
//! bytes (CTAP 2.1 §8.2). Every error the host reports carries one of these,
//! so a failure reads `6A82 file or application not found`, never `27266`.

use serde::Serialize;

macro_rules! named_codes {
    (
        $(#[$meta:meta])*
        $name:ident : $repr:ty { $( $(#[$vmeta:meta])* $variant:ident = $value:expr, $text:expr; )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this table does not name; shown in hex.
            Unlisted($repr),
        }

        impl $name {
            /// Decode a wire value.
            pub fn from_code(code: $repr) -> Self {
                match code {
                    $( $value => Self::$variant, )*
                    other => Self::Unlisted(other),
                }
            }

            /// The wire value.
            pub fn code(self) -> $repr {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unlisted(other) => other,
                }
            }

            /// Human-readable description (for CTAP codes, the spec name).
            pub fn describe(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unlisted(_) => "unlisted status",
                }
            }
        }

        /// In JSON reports, as shown on a terminal: the wire value in hex
        /// and its name (`"6A82 file or application not found"`,
        /// `"0x31 CTAP2_ERR_PIN_INVALID"`), never the Rust variant name.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
    };
}

named_codes! {
    /// ISO/IEC 7816-4 §5.6 status words, plus `91 00` of the CTAP NFC binding.
    StatusWord: u16 {
        /// `90 00`.
        Success = 0x9000, "success";
        /// `91 00`: CTAP NFC keep-alive / status update (CTAP 2.1 §11.3).
        CtapStatusUpdate = 0x9100, "CTAP status update (keep-alive)";
        /// `62 00`.
        WarningNoInfo = 0x6200, "warning, state unchanged";
        /// `63 00`.
        VerificationFailed = 0x6300, "verification failed";
        /// `64 00`.
        ExecutionError = 0x6400, "execution error, state unchanged";
        /// `65 81`.
        MemoryFailure = 0x6581, "memory failure";
        /// `67 00`.
        WrongLength = 0x6700, "wrong length";
        /// `68 81`.
        LogicalChannelNotSupported = 0x6881, "logical channel not supported";
        /// `68 82`.
        SecureMessagingNotSupported = 0x6882, "secure messaging not supported";
        /// `68 83`.
        LastCommandOfChainExpected = 0x6883, "last command of the chain expected";
        /// `68 84`.
        ChainingNotSupported = 0x6884, "command chaining not supported";
        /// `69 82`.
        SecurityStatusNotSatisfied = 0x6982, "security status not satisfied";
        /// `69 83`.
        AuthMethodBlocked = 0x6983, "authentication method blocked";
        /// `69 84`.
        ReferenceDataNotUsable = 0x6984, "reference data not usable";
        /// `69 85`.
        ConditionsNotSatisfied = 0x6985, "conditions of use not satisfied";
        /// `69 86`.
        CommandNotAllowed = 0x6986, "command not allowed (no current EF)";
        /// `6A 80`.
        IncorrectDataField = 0x6A80, "incorrect parameters in the data field";
        /// `6A 81`.
        FunctionNotSupported = 0x6A81, "function not supported";
        /// `6A 82`.
        NotFound = 0x6A82, "file or application not found";
        /// `6A 84`.
        NotEnoughMemory = 0x6A84, "not enough memory space";
        /// `6A 86`.
        IncorrectP1P2 = 0x6A86, "incorrect parameters P1-P2";
        /// `6A 88`.
        ReferencedDataNotFound = 0x6A88, "referenced data not found";
        /// `6B 00`.
        WrongP1P2 = 0x6B00, "wrong parameters P1-P2";
        /// `6D 00`.
        InsNotSupported = 0x6D00, "instruction code not supported or invalid";
        /// `6E 00`.
        ClaNotSupported = 0x6E00, "class not supported";
        /// `6F 00`.
        NoPreciseDiagnosis = 0x6F00, "no precise diagnosis";
    }
}

impl StatusWord {
    /// From the two trailer bytes.
    pub fn from_bytes(sw1: u8, sw2: u8) -> Self {
        Self::from_code(u16::from_be_bytes([sw1, sw2]))
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X} {}", self.code(), self.describe())
    }
}

named_codes! {
    /// CTAP 2.1 §8.2 status codes.
    CtapStatus: u8 {
        /// CTAP2_OK.
        Ok = 0x00, "CTAP2_OK";
        /// CTAP1_ERR_INVALID_COMMAND.
        InvalidCommand = 0x01, "CTAP1_ERR_INVALID_COMMAND";
        /// CTAP1_ERR_INVALID_PARAMETER.
        InvalidParameter = 0x02, "CTAP1_ERR_INVALID_PARAMETER";
        /// CTAP1_ERR_INVALID_LENGTH.
        InvalidLength = 0x03, "CTAP1_ERR_INVALID_LENGTH";
        /// CTAP1_ERR_INVALID_SEQ.
        InvalidSeq = 0x04, "CTAP1_ERR_INVALID_SEQ";
        /// CTAP1_ERR_TIMEOUT.
        Timeout = 0x05, "CTAP1_ERR_TIMEOUT";
        /// CTAP1_ERR_CHANNEL_BUSY.
        ChannelBusy = 0x06, "CTAP1_ERR_CHANNEL_BUSY";
        /// CTAP1_ERR_LOCK_REQUIRED.
        LockRequired = 0x0A, "CTAP1_ERR_LOCK_REQUIRED";
        /// CTAP1_ERR_INVALID_CHANNEL.
        InvalidChannel = 0x0B, "CTAP1_ERR_INVALID_CHANNEL";
        /// CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
        CborUnexpectedType = 0x11, "CTAP2_ERR_CBOR_UNEXPECTED_TYPE";
        /// CTAP2_ERR_INVALID_CBOR.
        InvalidCbor = 0x12, "CTAP2_ERR_INVALID_CBOR";
        /// CTAP2_ERR_MISSING_PARAMETER.
        MissingParameter = 0x14, "CTAP2_ERR_MISSING_PARAMETER";
        /// CTAP2_ERR_LIMIT_EXCEEDED.
        LimitExceeded = 0x15, "CTAP2_ERR_LIMIT_EXCEEDED";
        /// CTAP2_ERR_UNSUPPORTED_EXTENSION (CTAP 2.0).
        UnsupportedExtension = 0x16, "CTAP2_ERR_UNSUPPORTED_EXTENSION";
        /// CTAP2_ERR_FP_DATABASE_FULL.
        FpDatabaseFull = 0x17, "CTAP2_ERR_FP_DATABASE_FULL";
        /// CTAP2_ERR_LARGE_BLOB_STORAGE_FULL.
        LargeBlobStorageFull = 0x18, "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL";
        /// CTAP2_ERR_CREDENTIAL_EXCLUDED.
        CredentialExcluded = 0x19, "CTAP2_ERR_CREDENTIAL_EXCLUDED";
        /// CTAP2_ERR_PROCESSING.
        Processing = 0x21, "CTAP2_ERR_PROCESSING";
        /// CTAP2_ERR_INVALID_CREDENTIAL.
        InvalidCredential = 0x22, "CTAP2_ERR_INVALID_CREDENTIAL";
        /// CTAP2_ERR_USER_ACTION_PENDING.
        UserActionPending = 0x23, "CTAP2_ERR_USER_ACTION_PENDING";
        /// CTAP2_ERR_OPERATION_PENDING.
        OperationPending = 0x24, "CTAP2_ERR_OPERATION_PENDING";
        /// CTAP2_ERR_NO_OPERATIONS.
        NoOperations = 0x25, "CTAP2_ERR_NO_OPERATIONS";
        /// CTAP2_ERR_UNSUPPORTED_ALGORITHM.
        UnsupportedAlgorithm = 0x26, "CTAP2_ERR_UNSUPPORTED_ALGORITHM";
        /// CTAP2_ERR_OPERATION_DENIED.
        OperationDenied = 0x27, "CTAP2_ERR_OPERATION_DENIED";
        /// CTAP2_ERR_KEY_STORE_FULL.
        KeyStoreFull = 0x28, "CTAP2_ERR_KEY_STORE_FULL";
        /// CTAP2_ERR_NO_OPERATION_PENDING.
        NoOperationPending = 0x2A, "CTAP2_ERR_NO_OPERATION_PENDING";
        /// CTAP2_ERR_UNSUPPORTED_OPTION.
        UnsupportedOption = 0x2B, "CTAP2_ERR_UNSUPPORTED_OPTION";
        /// CTAP2_ERR_INVALID_OPTION.
        InvalidOption = 0x2C, "CTAP2_ERR_INVALID_OPTION";
        /// CTAP2_ERR_KEEPALIVE_CANCEL.
        KeepaliveCancel = 0x2D, "CTAP2_ERR_KEEPALIVE_CANCEL";
        /// CTAP2_ERR_NO_CREDENTIALS.
        NoCredentials = 0x2E, "CTAP2_ERR_NO_CREDENTIALS";
        /// CTAP2_ERR_USER_ACTION_TIMEOUT.
        UserActionTimeout = 0x2F, "CTAP2_ERR_USER_ACTION_TIMEOUT";
        /// CTAP2_ERR_NOT_ALLOWED.
        NotAllowed = 0x30, "CTAP2_ERR_NOT_ALLOWED";
        /// CTAP2_ERR_PIN_INVALID.
        PinInvalid = 0x31, "CTAP2_ERR_PIN_INVALID";
        /// CTAP2_ERR_PIN_BLOCKED.
        PinBlocked = 0x32, "CTAP2_ERR_PIN_BLOCKED";
        /// CTAP2_ERR_PIN_AUTH_INVALID.
        PinAuthInvalid = 0x33, "CTAP2_ERR_PIN_AUTH_INVALID";
        /// CTAP2_ERR_PIN_AUTH_BLOCKED.
        PinAuthBlocked = 0x34, "CTAP2_ERR_PIN_AUTH_BLOCKED";
        /// CTAP2_ERR_PIN_NOT_SET.
        PinNotSet = 0x35, "CTAP2_ERR_PIN_NOT_SET";
        /// CTAP2_ERR_PUAT_REQUIRED (CTAP 2.0: PIN_REQUIRED).
        PuatRequired = 0x36, "CTAP2_ERR_PUAT_REQUIRED";
        /// CTAP2_ERR_PIN_POLICY_VIOLATION.
        PinPolicyViolation = 0x37, "CTAP2_ERR_PIN_POLICY_VIOLATION";
        /// Reserved (CTAP 2.0 PIN_TOKEN_EXPIRED).
        PinTokenExpired = 0x38, "CTAP2_ERR_PIN_TOKEN_EXPIRED";
        /// CTAP2_ERR_REQUEST_TOO_LARGE.
        RequestTooLarge = 0x39, "CTAP2_ERR_REQUEST_TOO_LARGE";
        /// CTAP2_ERR_ACTION_TIMEOUT.
        ActionTimeout = 0x3A, "CTAP2_ERR_ACTION_TIMEOUT";
        /// CTAP2_ERR_UP_REQUIRED.
        UpRequired = 0x3B, "CTAP2_ERR_UP_REQUIRED";
        /// CTAP2_ERR_UV_BLOCKED.
        UvBlocked = 0x3C, "CTAP2_ERR_UV_BLOCKED";
        /// CTAP2_ERR_INTEGRITY_FAILURE.
        IntegrityFailure = 0x3D, "CTAP2_ERR_INTEGRITY_FAILURE";
        /// CTAP2_ERR_INVALID_SUBCOMMAND.
        InvalidSubcommand = 0x3E, "CTAP2_ERR_INVALID_SUBCOMMAND";
        /// CTAP2_ERR_UV_INVALID.
        UvInvalid = 0x3F, "CTAP2_ERR_UV_INVALID";
        /// CTAP2_ERR_UNAUTHORIZED_PERMISSION.
        UnauthorizedPermission = 0x40, "CTAP2_ERR_UNAUTHORIZED_PERMISSION";
        /// CTAP1_ERR_OTHER.
        Other = 0x7F, "CTAP1_ERR_OTHER";
    }
}

impl std::fmt::Display for CtapStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unlisted(code) => write!(f, "0x{code:02X} (unlisted CTAP status)"),
            named => write!(f, "0x{:02X} {}", named.code(), named.describe()),
        }
    }
}
