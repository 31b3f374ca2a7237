-- The card already registered for these exact bytes under this object name, if any.
SELECT card_id, card_json
FROM model_cards
WHERE model_uri = @model_uri AND model_sha256 = @model_sha256
ORDER BY registered_at
LIMIT 1
