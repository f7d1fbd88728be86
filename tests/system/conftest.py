from tests.support.fixtures import database_name, postgres_cluster, redis_server

__all__ = ["database_name", "postgres_cluster", "redis_server"]
