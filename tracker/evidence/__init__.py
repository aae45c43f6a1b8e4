"""Evidence kept outside the database: signed checkpoints of every patient's event log.

Pure: it imports neither db/ nor the faces, and knows nothing of SQL. The application
(tracker.application.evidence) reads the logs from the database and hands them here.

    merkle        the Merkle tree over the patients (RFC 6962 hashing): a root, and a patient's
                  inclusion proof of log2(N) hashes
    signing       Ed25519 keys (the ``cryptography`` library), key ids, signing and verifying
                  the canonical statement
    checkpoints   the leaf and the statement, the checkpoint files (one JSON-lines file per
                  checkpoint in a directory), and what a series of checkpoints witnessed
"""
