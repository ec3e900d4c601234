"""Demo pathways (fixtures/pathways.json), imported and published through the services.

Running it twice changes nothing: a pathway the operation already has is left alone.
"""

import json
from pathlib import Path

from django.conf import settings
from django.db import transaction

from common.errors import ServiceError
from partners.models import Operation
from pathways import services
from pathways.models import Pathway

PATHWAYS_FILE = Path(settings.BASE_DIR) / "fixtures" / "pathways.json"


def load_demo_pathways(
    *, operation: Operation, actor, path: Path = PATHWAYS_FILE
) -> list[tuple[Pathway, list]]:
    """Import and publish each demo pathway the operation lacks; returns (pathway, problems) pairs.

    A pathway that fails validation (say an organisation's data-sharing agreement has expired since
    the fixtures were written) stays a draft with its problems, instead of failing the whole demo.
    """
    documents = json.loads(Path(path).read_text(encoding="utf-8"))["pathways"]
    results = []
    for document in documents:
        name = document["pathway"]["name"]
        if Pathway.objects.filter(operation=operation, name=name).exists():
            continue
        pathway = services.pathway_import(actor=actor, document=document, operation=operation)
        problems: list = []
        try:
            with transaction.atomic():
                pathway = services.pathway_publish(actor=actor, pathway=pathway)
        except ServiceError as exc:
            problems = exc.extra.get("problems", [])
        results.append((pathway, problems))
    return results
