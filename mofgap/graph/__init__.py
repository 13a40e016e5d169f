"""Structure → periodic neighbour graph (torch_geometric Data), with an on-disk cache."""
