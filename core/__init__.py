"""The bottom layer: settings, database, tables, migrations, the data converter, small runtime helpers."""
