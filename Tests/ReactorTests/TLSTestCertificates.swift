/// Fixed certificates for the TLS name and key tests: one whose key is encrypted (passphrase
/// "secret"), one that names its host in the subject CN only (no subjectAltName).
enum TLSTestCertificates {
    static let encCert = """
        -----BEGIN CERTIFICATE-----
        MIIBZDCCAQqgAwIBAgIUEwlDZRVNxBa4Xmg8rI14tyf7dBIwCgYIKoZIzj0EAwIw
        EzERMA8GA1UEAwwIZW5jLnRlc3QwIBcNMjQwMTAxMDAwMDAwWhgPMjEwMDAxMDEw
        MDAwMDBaMBMxETAPBgNVBAMMCGVuYy50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
        AQcDQgAEEZr5Nyp98G7FXZW7GsKZBEgw2YkVKGkZkfGnuNRQGzzPdO/tIhk3rzIc
        Exdvl7VmascVUQqwWkr++4B1Vk58KaM6MDgwDAYDVR0TAQH/BAIwADATBgNVHREE
        DDAKgghlbmMudGVzdDATBgNVHSUEDDAKBggrBgEFBQcDATAKBggqhkjOPQQDAgNI
        ADBFAiAdmut6s2en5te8cPoSiKRcyRhrtm2sGFY4yM0Me5iu9wIhAInmaI+M8VHT
        KtuAqOPeuCH1jJSFSLu/yjRN6V9ZaQ4B
        -----END CERTIFICATE-----
        """
    static let encKey = """
        -----BEGIN ENCRYPTED PRIVATE KEY-----
        MIH0MF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBA6mx244M9jQfpg9B+z
        7VpsAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQtH1HSz7VwquxCAAh
        CA12GwSBkGwGLOq17cSNY5UhIhX4B9DPqpl+FfF9gBZFeaRiHthrqZNHpLEnqHUo
        hh0hezt1Z/YGfIeszbWgntTXN8DwzaPSCG6WGgK3n9u1ClhGesA6lSM07Jrv28hk
        PnL65f+PAc6RlZO0P58QeA5DhZJ2OePjbIxKhG+2ry/85v3asVmLJ4J4XdJ/58+O
        XHNnOQWD3Q==
        -----END ENCRYPTED PRIVATE KEY-----
        """
    static let cnOnlyCert = """
        -----BEGIN CERTIFICATE-----
        MIIBVTCB+6ADAgECAhRb0qX8rtCqEG/+NGjyC8qmuzdehjAKBggqhkjOPQQDAjAW
        MRQwEgYDVQQDDAtjbm9ubHkudGVzdDAgFw0yNDAxMDEwMDAwMDBaGA8yMTAwMDEw
        MTAwMDAwMFowFjEUMBIGA1UEAwwLY25vbmx5LnRlc3QwWTATBgcqhkjOPQIBBggq
        hkjOPQMBBwNCAARpVzgPL88hWd9dco38Bq2n/PYQIKRykY66vXKF1Q2wZJHEB0Kh
        9LC66Po7pjfCGMoqTCvJjf7jXib8V5tnEZyEoyUwIzAMBgNVHRMBAf8EAjAAMBMG
        A1UdJQQMMAoGCCsGAQUFBwMBMAoGCCqGSM49BAMCA0kAMEYCIQCZsciWuEANBgzc
        9CHJ1UkPOaduy9SEKb9LooXLSUuyvQIhAN34iMf2oxE3oc5TDNd243aPvhNkRev6
        0db4+3FbLSgW
        -----END CERTIFICATE-----
        """
    static let cnOnlyKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg4CENM+Wpgg+FZWLJ
        eTaq/zjWgyTnKubGBvp/kz3f8T+hRANCAARpVzgPL88hWd9dco38Bq2n/PYQIKRy
        kY66vXKF1Q2wZJHEB0Kh9LC66Po7pjfCGMoqTCvJjf7jXib8V5tnEZyE
        -----END PRIVATE KEY-----
        """
}
