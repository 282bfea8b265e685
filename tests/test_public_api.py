import tamis


def test_public_names_are_exactly_these():
    assert sorted(tamis.__all__) == [
        "ConfigError",
        "Document",
        "InputError",
        "RetryableError",
        "StorageError",
        "TamisError",
        "TaskError",
        "__version__",
    ]
    for name in tamis.__all__:
        assert hasattr(tamis, name)
