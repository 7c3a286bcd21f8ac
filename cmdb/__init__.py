"""The configuration management database (CMDB, 配置管理数据库): the declarative model of CI classes and
relationship types (`model`, `validate`, `loader`, the shipped `library/default.yaml`), its tables
(`tables`), and what people do with it: CIs and their versions (`cis`), relationships (`relations`),
impact analysis in the database (`impact`), bulk import and export (`bulk`), the model's versions
(`models`). Refusals are `errors.CmdbError`, in Chinese and English."""
