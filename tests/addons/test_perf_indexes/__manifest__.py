{
    "name": "perf_indexes test addon",
    "summary": "Test-only model declaring indexes by data file and by code, installed after "
    "perf_indexes",
    "version": "17.0.1.0.0",
    "category": "Hidden/Tests",
    "author": "perf_* toolkit contributors",
    "license": "LGPL-3",
    "depends": ["perf_indexes"],
    "data": [
        "security/ir.model.access.csv",
        "data/test_perf_indexes_data.xml",
    ],
    "installable": True,
}
